"""Every clusterer, with its default settings, on one set of labelled embeddings: one table."""

from __future__ import annotations

import inspect
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from raypipe.cluster import CLUSTERERS
from raypipe.evaluation.labels import face_labels, largest_face_mask
from raypipe.evaluation.metrics import score_clustering
from raypipe.registry import ComponentError

log = logging.getLogger(__name__)

COLUMNS = ["clusterer", "nmi", "pairwise_f", "bcubed_f", "n_clusters", "seconds", "note"]


@dataclass(frozen=True)
class LabelledFaces:
    """Embeddings of a run with person labels, image ids (cannot-link) and rows to score."""

    X: np.ndarray
    labels: np.ndarray
    groups: np.ndarray
    model: str | None
    scored: np.ndarray  # bool: the largest face of each image

    def subset(self, rows: np.ndarray) -> LabelledFaces:
        """The faces of ``rows`` (a boolean mask or indices)."""
        return LabelledFaces(self.X[rows], self.labels[rows], self.groups[rows], self.model, self.scored[rows])


def load_labelled_faces(faces_parquet: str | Path) -> LabelledFaces:
    """Read faces.parquet; labels and scored faces as :mod:`raypipe.evaluation.labels` gives them."""
    faces = pd.read_parquet(faces_parquet)
    models = faces.embedder.unique() if "embedder" in faces else []
    return LabelledFaces(
        X=np.stack(faces.embedding.to_numpy()).astype(np.float32),
        labels=face_labels(faces),
        groups=faces.image_id.to_numpy(),
        model=str(models[0]) if len(models) == 1 else None,
        scored=largest_face_mask(faces),
    )


def default_spec(name: str, model: str | None) -> dict:
    """``{"name": name}``, plus the embedding model for clusterers with a calibrated threshold."""
    accepts_model = "model" in inspect.signature(CLUSTERERS.resolve(name)).parameters
    return {"name": name, "model": model} if accepts_model and model else {"name": name}


def compare_clusterers(
    X,
    labels,
    groups=None,
    *,
    model: str | None = None,
    scored: np.ndarray | None = None,
    names: list[str] | None = None,
) -> pd.DataFrame:
    """One row per clusterer: scores on the ``scored`` rows (default all), clusters, seconds.

    A clusterer that refuses (size limit, missing dependency) gets its reason in ``note``.
    """
    labels = np.asarray(labels)
    scored = np.ones(len(labels), bool) if scored is None else np.asarray(scored, bool)
    rows = []
    for name in names or CLUSTERERS.names():
        started = time.perf_counter()
        try:
            predicted = CLUSTERERS.build(default_spec(name, model)).fit(X, groups=groups).labels_
        except ComponentError as err:
            log.warning("%s: %s", name, err)
            rows.append({"clusterer": name, "note": str(err)})
            continue
        seconds = time.perf_counter() - started
        scores = score_clustering(labels[scored], predicted[scored])
        rows.append(
            {
                "clusterer": name,
                **{key: scores[key] for key in COLUMNS[1:4]},
                "n_clusters": len(np.unique(predicted[predicted >= 0])),
                "seconds": seconds,
                "note": "",
            }
        )
    return pd.DataFrame(rows, columns=COLUMNS)


def markdown_table(table: pd.DataFrame) -> str:
    """``table`` as a GitHub Markdown table (cells as printed by pandas)."""
    cells = table.astype(str).to_numpy().tolist()
    lines = [list(table.columns), ["---"] * len(table.columns), *cells]
    return "\n".join("| " + " | ".join(line) + " |" for line in lines)
