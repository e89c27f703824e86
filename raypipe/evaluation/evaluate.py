"""Score a run's clusters against folder labels (:mod:`raypipe.evaluation.labels`)."""

from __future__ import annotations

import json
import logging

import numpy as np

from raypipe import storage
from raypipe.evaluation.labels import LabelTargets, label_targets
from raypipe.evaluation.metrics import score_clustering
from raypipe.layout import RunLayout, atomic_write_text, read_clusters

log = logging.getLogger(__name__)


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
