"""Candidate per-run transforms of drawn-face vectors (no labels: what a user's run can do).

Each takes the unit vectors of the faces clustered together (after the identity head and
:func:`raypipe.cluster.base.run_standardised` where a candidate says so) and returns unit
vectors of the same shape, for ``bench/drawn_protocol.py`` to compare (docs/drawn-faces.md,
"Issue 25, second round"):

- :func:`run_whitened`: PCA-whitening of the run's own vectors (their covariance shrunk towards
  a multiple of the identity), the full-covariance version of ``run_standardised``;
  (or of its leading principal components only);
- :func:`neighbour_averaged`: each vector replaced by the mean of itself and its ``k`` nearest
  neighbours, weighted by similarity cubed (alpha query expansion, Radenovic et al. 2018);
- :func:`reciprocal_averaged`: each vector replaced by the mean of itself and its k-reciprocal
  neighbours (those that have it among their own ``k`` nearest; Zhong et al. 2017's neighbourhood);
- :func:`coral_recoloured` (issue 25, eighth round, C2): the run's rows re-coloured to the
  covariance of other rows (CORAL, Sun et al. 2016), before the identity head;
- :func:`pseudo_label_whitened` (issue 25, eighth round, C1): the run re-embedded by a
  within-class whitening fitted with its own clusters as labels.
"""

from __future__ import annotations

import numpy as np

from raypipe.cluster.base import run_standardised, unit_rows
from raypipe.cluster.knn import nearest_neighbours
from raypipe.embed.base import l2_normalize
from raypipe.features.learn.identity_head import within_class_whitening


def run_whitened(
    X: np.ndarray, shrinkage: float = 0.3, components: int | None = None
) -> np.ndarray:
    """Unit rows of ``X`` centred and whitened by their own covariance (shrunk by ``shrinkage``
    towards its mean eigenvalue times the identity; ``components``: its leading principal
    components only, None: all), then unit length again."""
    X = unit_rows(X).astype(np.float64)
    centred = X - X.mean(axis=0)
    values, vectors = np.linalg.eigh(shrunk_covariance(X, shrinkage))
    keep = slice(-components if components else 0, None)  # eigh sorts ascending
    whitening = vectors[:, keep] / np.sqrt(np.maximum(values[keep], 1e-12))
    return l2_normalize((centred @ whitening).astype(np.float32))


def shrunk_covariance(X: np.ndarray, shrinkage: float) -> np.ndarray:
    """Covariance of the rows of ``X`` shrunk by ``shrinkage`` towards its mean eigenvalue times
    the identity."""
    X = np.asarray(X, np.float64)
    centred = X - X.mean(axis=0)
    covariance = centred.T @ centred / len(X)
    scale = np.trace(covariance) / len(covariance)
    return (1 - shrinkage) * covariance + shrinkage * scale * np.eye(len(covariance))


def symmetric_power(matrix: np.ndarray, power: float) -> np.ndarray:
    """``matrix`` (symmetric, positive definite) to ``power`` (e.g. 0.5, -0.5), by eigenvalues."""
    values, vectors = np.linalg.eigh(matrix)
    return (vectors * np.maximum(values, 1e-12) ** power) @ vectors.T


def coral_recoloured(
    X: np.ndarray, mean: np.ndarray, root: np.ndarray, shrinkage: float = 0.15
) -> np.ndarray:
    """Rows of ``X`` centred, whitened by their own :func:`shrunk_covariance`, re-coloured by
    ``root`` (another set's covariance to the power 1/2) and moved to that set's ``mean``."""
    X = np.asarray(X, np.float64)
    return (X - X.mean(axis=0)) @ symmetric_power(
        shrunk_covariance(X, shrinkage), -0.5
    ) @ root + mean


def pseudo_label_whitened(X: np.ndarray, labels: np.ndarray, shrinkage: float = 0.15) -> np.ndarray:
    """The run's standardised unit rows ``X`` re-embedded by :func:`within_class_whitening` fitted
    on the run itself, its own clusters ``labels`` taken as characters (no truth read), then
    standardised again. The rows are scaled by sqrt(d) first: each dimension's spread near 1,
    the scale of the identity head's inputs its shrinkage was chosen on."""
    S = np.float32(np.sqrt(X.shape[1])) * unit_rows(X)
    return run_standardised(S @ within_class_whitening(S, labels, shrinkage))


def neighbour_averaged(X: np.ndarray, k: int = 10, power: float = 3.0) -> np.ndarray:
    """Each unit row of ``X`` plus its ``k`` nearest rows weighted by (similarity, at least 0)
    to the ``power``, unit length again."""
    X = unit_rows(X)
    found = nearest_neighbours(X, min(k, len(X) - 1))
    weights = np.where(found.indices >= 0, np.clip(1.0 - found.distances, 0.0, None), 0.0) ** power
    return l2_normalize(X + np.einsum("nk,nkd->nd", weights, X[np.maximum(found.indices, 0)]))


def reciprocal_averaged(X: np.ndarray, k: int = 10) -> np.ndarray:
    """Each unit row of ``X`` plus those of its ``k`` nearest rows that have it among their own
    ``k`` nearest, unit length again."""
    X = unit_rows(X)
    indices = nearest_neighbours(X, min(k, len(X) - 1)).indices
    rows = np.arange(len(X))
    reciprocal = np.array([[j >= 0 and i in indices[j] for j in indices[i]] for i in rows])
    return l2_normalize(
        X + np.einsum("nk,nkd->nd", reciprocal.astype(np.float32), X[np.maximum(indices, 0)])
    )
