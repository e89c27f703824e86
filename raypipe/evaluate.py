"""Score a run's clusters against folder labels: each image's parent folder names its largest face."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from raypipe.layout import RunLayout, atomic_write_text
from raypipe.metrics import score_clustering

log = logging.getLogger(__name__)


def folder_label(image_path: str, labels_root: str | None) -> str | None:
    """The parent folder's name, for images under ``labels_root`` (any image when it is None)."""
    path = Path(image_path)
    if labels_root is not None:
        try:
            path.resolve().relative_to(Path(labels_root).resolve())
        except ValueError:
            return None
    return path.parent.name


def labelled_assignments(layout: RunLayout, labels_root: str | None) -> tuple[list[str], np.ndarray, int]:
    """True labels and predicted clusters, one entry per labelled input image.

    The largest face of an image carries its label; other faces are left out. Images without a
    face (none found, or an error) count as missed: each is its own singleton cluster.
    Returns the labels, the clusters and the number of missed images.
    """
    images = pd.read_parquet(layout.images)
    clusters = pd.read_csv(layout.clusters)
    clusters["area"] = (clusters.x2 - clusters.x1) * (clusters.y2 - clusters.y1)
    largest = clusters.sort_values("area", ascending=False).drop_duplicates("image_path").set_index("image_path")
    truth, predicted, missed = [], [], 0
    next_singleton = int(clusters["cluster"].max() if len(clusters) else 0) + 1
    for path in sorted(images["image_path"]):
        label = folder_label(path, labels_root)
        if label is None:
            continue
        cluster = int(largest.at[path, "cluster"]) if path in largest.index else None
        if cluster is None:
            cluster, next_singleton, missed = next_singleton, next_singleton + 1, missed + 1
        truth.append(label)
        predicted.append(cluster)
    return truth, np.array(predicted, dtype=np.int64), missed


def evaluate_run(run: str, labels_root: str | None) -> dict:
    """Write ``RUN/metrics.json`` and return it."""
    layout = RunLayout.at(run)
    truth, predicted, missed = labelled_assignments(layout, labels_root)
    if not truth:
        raise FileNotFoundError(f"no image of {run} lies under the labels folder {labels_root}")
    metrics = score_clustering(truth, predicted)
    metrics["images_scored"] = len(truth)
    metrics["images_missed"] = missed
    atomic_write_text(layout.metrics, json.dumps(metrics, indent=2, sort_keys=True))
    return metrics
