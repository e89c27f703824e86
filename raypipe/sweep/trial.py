"""One trial of a sweep: build the sampled reducer and clusterer, fit, score.

The driver reads a run once into :class:`SweepData` (every feature the space may pick, the
labels when given); Tune puts it in the object store once and hands it to each trial.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from raypipe.cluster.step import ClusterInputs, assign_clusters, clusterer_spec
from raypipe.evaluation.evaluate import score_against_labels
from raypipe.evaluation.labels import LabelTargets
from raypipe.sweep.grid import CandidateGrid
from raypipe.sweep.scoring import coverage_silhouette
from raypipe.sweep.space import Candidate, SearchSpace

#: Metrics every trial reports, labels or not.
UNSUPERVISED_METRICS = ("silhouette", "clusters", "unassigned", "fit_seconds")


@dataclass
class SweepData:
    """What every trial reads: the faces to cluster per feature, the reference embedding, labels."""

    inputs: dict[str | None, ClusterInputs]  # per feature name (None: the run's embedding)
    # The run's embedding of the faces fit to cluster (silhouette space); None: each trial's vectors
    reference: ClusterInputs | None
    n_faces: int
    model: str | None  # embedding model, for calibrated thresholds on the plain embedding
    cannot_link: bool
    targets: LabelTargets | None = None
    report_labels: bool = False  # trials also report each face's cluster (to store the clustering)


def resolved_clusterer(candidate: Candidate, data: SweepData) -> dict[str, Any]:
    """The clusterer spec as fitted: the embedding model and cannot-link filled in as ``cluster`` does."""
    plain_embedding = candidate.feature is None and not candidate.reducer
    return clusterer_spec(
        candidate.clusterer, data.model if plain_embedding else None, data.cannot_link
    )


def evaluate_candidate(candidate: Candidate, data: SweepData) -> tuple[dict[str, float], np.ndarray]:
    """Fit ``candidate`` on the faces of ``data``: its scores (label metrics when labels are
    given) and each face's cluster (-1: unassigned)."""
    started = time.perf_counter()
    inputs = data.inputs[candidate.feature]
    labels = np.full(data.n_faces, -1, dtype=np.int64)
    if len(inputs.rows):
        labels[inputs.rows] = assign_clusters(
            inputs, resolved_clusterer(candidate, data), candidate.reducer
        )
    reference = inputs if data.reference is None else data.reference
    metrics = {
        "silhouette": coverage_silhouette(reference.X, labels[reference.rows]),
        "clusters": float(len(np.unique(labels[labels >= 0]))),
        "unassigned": float((labels < 0).sum()),
        "fit_seconds": time.perf_counter() - started,
    }
    if data.targets is not None:
        metrics.update(score_against_labels(data.targets, labels))
    return metrics, labels


def trainable(config: dict[str, Any], space: SearchSpace | CandidateGrid, data: SweepData) -> None:
    """Tune function trainable: one report with the candidate's metrics."""
    from ray import tune

    metrics, labels = evaluate_candidate(space.candidate(config), data)
    tune.report({**metrics, "labels": labels.tolist()} if data.report_labels else metrics)
