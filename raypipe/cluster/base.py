"""Shared behaviour of every clusterer: input checks, cannot-link, size limits."""

from __future__ import annotations

import logging

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin

from raypipe.cluster.calibration import same_person_threshold
from raypipe.cluster.constraints import enforce_cannot_link
from raypipe.embed.base import l2_normalize
from raypipe.registry import ComponentError

log = logging.getLogger(__name__)

#: Default size limit of algorithms that hold all n x n distances (~1.6 GB of float64 at 20k).
QUADRATIC_LIMIT = 20_000
SCALABLE_ALTERNATIVES = "'auto', 'chinese-whispers', 'knn-graph', 'leiden' or 'finch'"


class TooManyFacesError(ComponentError):
    """A quadratic algorithm was given more points than its limit."""


#: Rows checked for unit length at a time, and the tolerance of "already unit length".
NORM_BLOCK = 1_000_000
NORM_TOLERANCE = 1e-4


def unit_rows(X) -> np.ndarray:
    """``X`` L2-normalised as float32; a float32 ``X`` (a memmap of millions of rows included)
    whose rows already have unit length is returned as it is, not copied."""
    if (
        isinstance(X, np.ndarray)
        and X.dtype == np.float32
        and X.ndim == 2
        and len(X)
        and all(
            np.abs(np.linalg.norm(X[s : s + NORM_BLOCK], axis=1) - 1).max() <= NORM_TOLERANCE
            for s in range(0, len(X), NORM_BLOCK)
        )
    ):
        return X
    return l2_normalize(np.asarray(X))


#: Rows standardised at a time by :func:`run_standardised` (bounds its temporaries).
STANDARDISE_BLOCK = 32_768


def _column_mean(X: np.ndarray, blocks: list[slice], rows) -> np.ndarray:
    """Mean over the rows of ``rows(X[block])`` block by block, in float32 and bit for bit what
    numpy's ``mean(axis=0)`` of the whole array gives (its rows added one after another)."""
    total = None
    for block in blocks:
        values = np.array(rows(X[block]), dtype=np.float32)
        if total is not None:
            values[0] += total  # carried on: the same additions in the same order
        total = np.add.reduce(values, axis=0)
    return np.true_divide(total, np.intp(len(X)), out=total, casting="unsafe")


def run_standardised(X: np.ndarray) -> np.ndarray:
    """Unit rows of ``X`` centred on their own mean, each dimension scaled to unit spread, then
    unit length again: what the faces clustered together share (a source's drawing style, say)
    no longer makes them look alike. Block by block (:data:`STANDARDISE_BLOCK` rows): one
    float32 copy of ``X`` in memory, not four (1M drawn faces: 2.2 GB each)."""
    X = unit_rows(X)
    blocks = [
        slice(start, start + STANDARDISE_BLOCK) for start in range(0, len(X), STANDARDISE_BLOCK)
    ]
    mean = X.mean(axis=0)
    centred_mean = _column_mean(X, blocks, lambda rows: rows - mean)
    spread = np.sqrt(_column_mean(X, blocks, lambda rows: np.square(rows - mean - centred_mean)))
    scale = np.maximum(spread, 1e-6)
    out = np.empty(X.shape, np.float32)
    for block in blocks:
        out[block] = l2_normalize((X[block] - mean) / scale)
    return out


class Clusterer(ClusterMixin, BaseEstimator):
    """Base class: subclasses implement ``_cluster(X) -> labels`` on L2-normalised float32 rows.

    ``fit(X, y=None, groups=None)`` normalises ``X``, clusters it and, when the ``cannot_link``
    setting is on and ``groups`` are given, splits clusters holding two rows of one group
    (see :func:`raypipe.cluster.constraints.enforce_cannot_link`).
    """

    def fit(self, X, y=None, groups=None):
        X = unit_rows(X)
        if X.ndim != 2 or len(X) == 0:
            raise ValueError(f"expected a non-empty 2-d array of embeddings, got shape {X.shape}")
        self._check_size(len(X))
        labels = (
            np.asarray(self._cluster(X), dtype=np.int64) if len(X) > 1 else np.zeros(1, np.int64)
        )
        if getattr(self, "cannot_link", False) and groups is not None and len(X) > 1:
            labels = enforce_cannot_link(X, labels, np.asarray(groups), self._reassign_distance(X))
        self.labels_ = labels
        return self

    def _cluster(self, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _reassign_distance(self, X: np.ndarray) -> float | None:
        """Farthest centroid a face split off by cannot-link may join (None: no limit)."""
        return None

    def _threshold(self, X: np.ndarray, kind: str) -> float:
        """The ``threshold`` setting, else the calibrated one of ``model``, else a data-driven one."""
        if self.threshold is not None:
            return float(self.threshold)
        return same_person_threshold(X, getattr(self, "model", None), kind)

    def _check_size(self, n: int) -> None:
        limit = getattr(self, "max_n", None)
        if limit is not None and n > limit:
            raise TooManyFacesError(
                f"{type(self).__name__} needs all {n} x {n} pairwise distances, above its limit "
                f"max_n={limit}; use a scalable clusterer ({SCALABLE_ALTERNATIVES}) or raise max_n "
                "if the memory is there"
            )


def relabel_by_size(labels: np.ndarray) -> np.ndarray:
    """Cluster ids 0, 1, ... from the largest cluster down (ties by first row); -1 stays -1.

    >>> relabel_by_size(np.array([5, 3, 3, -1, 5, 3]))
    array([ 1,  0,  0, -1,  1,  0])
    """
    out = np.full(len(labels), -1, dtype=np.int64)
    valid = labels >= 0
    if not valid.any():
        return out
    _, first, inverse, counts = np.unique(
        labels[valid], return_index=True, return_inverse=True, return_counts=True
    )
    rank = np.empty(len(counts), dtype=np.int64)
    rank[np.lexsort((first, -counts))] = np.arange(len(counts))
    out[valid] = rank[inverse.ravel()]
    return out
