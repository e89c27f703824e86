"""The unsupervised score of a sweep without labels: silhouette with a coverage penalty.

Clusterers without k (thresholds, density, graphs) leave faces unassigned or alone; a plain
silhouette over the assigned faces would reward leaving every hard face out. So the score is the
mean silhouette (cosine distance) over *all* faces that were to be clustered, where unassigned
faces and singletons count 0 (the sum of s_i over faces in clusters of two or more, divided by
the number of faces).
A trivial partition (everything in one cluster, or nothing grouped) scores 0; the score lies
in [-1, 1], higher is better. It is computed on the run's own embedding, one space for every
trial, so that trials with different features or reducers are compared on the same ground.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import silhouette_samples

#: Faces drawn (without replacement) when more are assigned; the silhouette is quadratic.
SILHOUETTE_SAMPLE = 4000


def coverage_silhouette(
    X: np.ndarray, labels: np.ndarray, sample: int = SILHOUETTE_SAMPLE, seed: int = 0
) -> float:
    """Mean cosine silhouette over all rows of ``X``, unassigned (-1) rows and singletons counting 0.

    >>> X = np.array([[1, 0], [1, 0.1], [0, 1], [0.1, 1], [1, 1]], dtype=np.float32)
    >>> round(coverage_silhouette(X, np.array([0, 0, 1, 1, -1])), 3)
    0.796
    >>> coverage_silhouette(X, np.zeros(5, dtype=int))
    0.0
    """
    labels = np.asarray(labels)
    assigned = np.flatnonzero(labels >= 0)
    if len(assigned) > sample:
        assigned = np.sort(np.random.default_rng(seed).choice(assigned, sample, replace=False))
    n_clusters = len(np.unique(labels[assigned]))
    if n_clusters < 2 or n_clusters == len(assigned):
        return 0.0
    scores = silhouette_samples(
        X[assigned], labels[assigned], metric="cosine"
    )  # singletons score 0
    covered = float((labels >= 0).sum()) / len(labels)
    return float(scores.mean() * covered)
