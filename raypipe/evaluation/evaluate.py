"""Score a run's clusters against folder labels: each image's parent folder names its largest face."""

from __future__ import annotations

import functools
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from raypipe import storage
from raypipe.cluster.step import read_clusters
from raypipe.layout import RunLayout, atomic_write_text
from raypipe.evaluation.metrics import score_clustering

log = logging.getLogger(__name__)


def folder_label(image_path: str, labels_root: str | None) -> str | None:
    """The parent folder's name, for images under ``labels_root`` (any image when it is None)."""
    path = Path(image_path)
    if labels_root is not None:
        try:
            path.resolve().relative_to(_resolved(labels_root))
        except ValueError:
            return None
    return path.parent.name


@functools.lru_cache(maxsize=8)
def _resolved(folder: str) -> Path:
    """``folder`` resolved once, not once per image."""
    return Path(folder).resolve()


@dataclass(frozen=True)
class LabelTargets:
    """Which face carries the folder label of each labelled input image.

    The largest face of an image carries its label; other faces are left out. ``face_rows``
    holds, per labelled image, the row of that face in the faces table, or -1 when the image
    has no face (none found, or an error): such images count as missed.
    """

    truth: list[str]
    face_rows: np.ndarray

    @property
    def missed(self) -> int:
        return int((self.face_rows < 0).sum())

    def predicted(self, clusters: np.ndarray) -> np.ndarray:
        """Per labelled image, the cluster of its labelled face; -1 (a singleton) when missed."""
        return np.where(self.face_rows >= 0, np.asarray(clusters)[np.maximum(self.face_rows, 0)], -1)


def largest_faces(faces: pd.DataFrame) -> dict[str, int]:
    """Image path -> row number in ``faces`` of that image's largest face (box area)."""
    area = (faces.x2 - faces.x1) * (faces.y2 - faces.y1)
    order = np.argsort(-area.to_numpy(), kind="stable")
    paths = faces["image_path"].to_numpy()[order]
    _, first = np.unique(paths, return_index=True)
    return dict(zip(paths[first], order[first]))


def label_targets(images: pd.DataFrame, faces: pd.DataFrame, labels_root: str | None) -> LabelTargets:
    """The labelled images of a run and their largest faces (rows of ``faces``: bbox columns)."""
    largest = largest_faces(faces)
    truth, rows = [], []
    for path in sorted(images["image_path"]):
        label = folder_label(path, labels_root)
        if label is not None:
            truth.append(label)
            rows.append(largest.get(path, -1))
    return LabelTargets(truth, np.array(rows, dtype=np.int64))


def score_against_labels(targets: LabelTargets, clusters: np.ndarray) -> dict:
    """Clustering metrics of per-face ``clusters`` (-1 = unassigned) against the folder labels."""
    metrics = score_clustering(targets.truth, targets.predicted(clusters))
    metrics["images_scored"] = len(targets.truth)
    metrics["images_missed"] = targets.missed
    return metrics


def evaluate_run(run: str, labels_root: str | None) -> dict:
    """Write ``RUN/metrics.json`` and return it."""
    layout = RunLayout.at(run)
    clusters = read_clusters(layout)
    targets = label_targets(storage.read_table(layout.images).to_pandas(), clusters, labels_root)
    if not targets.truth:
        raise FileNotFoundError(f"no image of {run} lies under the labels folder {labels_root}")
    metrics = score_against_labels(targets, clusters["cluster"].to_numpy())
    atomic_write_text(layout.metrics, json.dumps(metrics, indent=2, sort_keys=True))
    return metrics
