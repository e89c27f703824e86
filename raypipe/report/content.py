"""What a report shows, read from a run folder: faces with clusters and labels, per-cluster views."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from raypipe import storage
from raypipe.evaluation.labels import face_labels
from raypipe.layout import RunLayout, read_clusters

UNASSIGNED = -1


@dataclass
class ClusterView:
    """One cluster as the report shows it."""

    cluster: int
    rows: np.ndarray
    representative: str
    sample: list[str]
    person: str = ""
    labelled: int = 0
    majority_label: str | None = None
    purity: float | None = None

    @property
    def size(self) -> int:
        return len(self.rows)


@dataclass
class RunContent:
    """Everything of a run the report needs, loaded once."""

    layout: RunLayout
    faces: pd.DataFrame
    summary: dict = field(default_factory=dict)
    config: dict = field(default_factory=dict)
    metrics: dict | None = None
    errors: pd.DataFrame | None = None
    labelled: bool = False
    suggestions: pd.DataFrame | None = None
    #: JPEG bytes of the chips the report shows, by face id (read once, see ``shown_face_ids``).
    chips: dict[str, bytes] = field(default_factory=dict)

    @cached_property
    def image_paths(self) -> pd.Series:
        """Source image path by face id."""
        return self.faces.set_index("face_id")["image_path"]

    @cached_property
    def face_ids(self) -> np.ndarray:
        return self.faces["face_id"].to_numpy()

    @cached_property
    def embeddings(self) -> np.ndarray:
        """All embeddings as one (faces, dimensions) float32 matrix."""
        return np.stack(self.faces["embedding"].to_numpy()).astype(np.float32)


def read_json(path) -> dict | None:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def load_content(layout: RunLayout, labels_root: str | None = None) -> RunContent:
    """Faces (with ``cluster`` and, for labelled runs, ``label``), summary, metrics and errors.

    A run is labelled when ``labels_root`` is given or ``metrics.json`` exists; labels follow
    :mod:`raypipe.evaluation.labels`: the largest face of an image carries its parent folder's name.
    """
    if not layout.faces.exists():
        raise FileNotFoundError(f"{layout.faces} not found: run `raypipe extract` first")
    columns = ["face_id", "image_path", "x1", "y1", "x2", "y2", "embedding"]
    faces = layout.read_table("faces", columns=columns).to_pandas()
    faces["cluster"] = face_clusters(layout, faces)
    faces["person"] = face_people(layout, faces)
    metrics = read_json(layout.metrics)
    labelled = labels_root is not None or metrics is not None
    if labelled:
        faces["label"] = face_labels(faces, labels_root)
    errors = layout.read_table("errors").to_pandas() if layout.errors.exists() else None
    return RunContent(
        layout=layout, faces=faces, summary=read_json(layout.summary) or {},
        config=read_json(layout.config) or {}, metrics=metrics, errors=errors, labelled=labelled,
        suggestions=storage.read_csv(layout.suggestions) if layout.suggestions.exists() else None,
    )  # fmt: skip


def face_clusters(layout: RunLayout, faces: pd.DataFrame) -> np.ndarray:
    """Each face's cluster from ``clusters.csv``; all unassigned before the run is clustered."""
    if not layout.clusters.exists():
        return np.full(len(faces), UNASSIGNED, dtype=np.int64)
    clusters = read_clusters(layout).set_index("face_id")["cluster"]
    return faces["face_id"].map(clusters).fillna(UNASSIGNED).astype(np.int64).to_numpy()


def face_people(layout: RunLayout, faces: pd.DataFrame) -> np.ndarray:
    """Each face's person (the name of its cluster) from ``clusters.csv``; empty when unnamed."""
    clusters = read_clusters(layout) if layout.clusters.exists() else pd.DataFrame()
    if "person" not in clusters:
        return np.full(len(faces), "", dtype=object)
    person = clusters.set_index("face_id")["person"].astype("string")
    return faces["face_id"].map(person).fillna("").astype(str).to_numpy()


def representative(embeddings: np.ndarray) -> int:
    """Row of the embedding closest (cosine) to the mean direction of ``embeddings``."""
    centre = embeddings.mean(axis=0)
    return int(np.argmax(embeddings @ centre))


def cluster_views(content: RunContent, chips_per_cluster: int, seed: int = 0) -> list[ClusterView]:
    """One view per cluster (not the unassigned), largest first, with a seeded sample of chips."""
    rng = np.random.default_rng(seed)
    labels = content.faces["label"].to_numpy() if content.labelled else None
    views = []
    for cluster, rows in content.faces.groupby("cluster").indices.items():
        if cluster == UNASSIGNED:
            continue
        rep = rows[representative(content.embeddings[rows])]
        sample = content.face_ids[sample_rows(rows, rep, chips_per_cluster - 1, rng)].tolist()
        view = ClusterView(int(cluster), rows, content.face_ids[rep], sample, content.faces["person"].iloc[rep])
        if labels is not None:
            add_label_purity(view, labels[rows])
        views.append(view)
    return sorted(views, key=lambda v: (-v.size, v.cluster))


def sample_rows(
    rows: np.ndarray, leave_out: int, count: int, rng: np.random.Generator
) -> np.ndarray:
    """Up to ``count`` of ``rows`` other than ``leave_out``, drawn at random, in order."""
    others = rows[rows != leave_out]
    return np.sort(rng.choice(others, size=min(count, len(others)), replace=False))


def add_label_purity(view: ClusterView, labels: np.ndarray) -> None:
    """Majority label and its share among the labelled faces of the cluster."""
    counts = pd.Series(labels).dropna().value_counts()
    view.labelled = int(counts.sum())
    if view.labelled:
        view.majority_label = str(counts.index[0])
        view.purity = float(counts.iloc[0] / view.labelled)


def confusion(faces: pd.DataFrame, clusters: list[int], max_labels: int) -> pd.DataFrame:
    """Labelled faces counted per cluster (rows, in the order given) and label.

    Keeps the ``max_labels`` most frequent labels that occur in these rows, ordered by the first
    row where each peaks, so that a good clustering shows as a diagonal.
    """
    labelled = faces.dropna(subset=["label"])
    table = pd.crosstab(labelled["cluster"], labelled["label"]).reindex(
        index=clusters, fill_value=0
    )
    columns = labelled["label"].value_counts().index[:max_labels]
    columns = [label for label in columns if table[label].sum() > 0]
    peak_row = {label: int(np.argmax(table[label].to_numpy())) for label in columns}
    return table[sorted(columns, key=lambda label: (peak_row[label], label))]
