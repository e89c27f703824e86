"""FINCH first-neighbour clustering (Sarfraz, Sharma & Stiefelhagen, CVPR 2019), from the paper.

Each point is linked to its first (nearest) neighbour; the connected components of these links
are the first partition. The same step on the cluster means gives the next, coarser partition,
until nothing merges. Here a link longer than ``threshold`` (cosine distance between points or
cluster means) is not made, which stops the hierarchy at "same person" without needing k.
"""

from __future__ import annotations

import logging

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from raypipe.cluster.base import Clusterer
from raypipe.cluster.constraints import centroids
from raypipe.cluster.knn import EXACT_LIMIT, nearest_neighbours

log = logging.getLogger(__name__)


def first_neighbour_merge(
    points: np.ndarray, max_distance: float | None, exact_limit: int
) -> np.ndarray:
    """Components of the first-neighbour links of ``points``, none longer than ``max_distance``."""
    nearest = nearest_neighbours(points, 1, exact_limit=exact_limit)
    first, distance = nearest.indices[:, 0], nearest.distances[:, 0]
    keep = (first >= 0) & (distance <= (np.inf if max_distance is None else max_distance))
    rows = np.flatnonzero(keep)
    links = sparse.coo_matrix((np.ones(len(rows)), (rows, first[keep])), shape=(len(points),) * 2)
    return connected_components(links, directed=False)[1]


def merge_closest_pair(X: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """``labels`` with the two clusters whose means are nearest merged into one."""
    n_clusters = int(labels.max()) + 1
    nearest = nearest_neighbours(centroids(X, labels, n_clusters), 1, method="exact")
    a = int(np.argmin(nearest.distances[:, 0]))
    b = int(nearest.indices[a, 0])
    merged = np.where(labels == max(a, b), min(a, b), labels)
    return np.unique(merged, return_inverse=True)[1]


class FINCH(Clusterer):
    """FINCH hierarchy of first-neighbour partitions; ``partitions_`` holds every level.

    Parameters
    ----------
    n_clusters : cut the hierarchy at exactly this many clusters (the paper's refinement: from
        the first level with at least this many, merge the closest pair of means one at a time).
    threshold : longest first-neighbour link (cosine distance), used when ``n_clusters`` is None;
        None: the calibrated single-link "same person" distance of ``model``, else data-driven.
    """

    def __init__(
        self,
        *,
        n_clusters: int | None = None,
        threshold: float | None = None,
        model: str | None = None,
        exact_limit: int = EXACT_LIMIT,
        cannot_link: bool = False,
    ):
        self.n_clusters = n_clusters
        self.threshold = threshold
        self.model = model
        self.exact_limit = exact_limit
        self.cannot_link = cannot_link

    def _hierarchy(self, X: np.ndarray, max_distance: float | None) -> list[np.ndarray]:
        labels = first_neighbour_merge(X, max_distance, self.exact_limit)
        partitions = [labels]
        while (n_clusters := int(labels.max()) + 1) > 1:
            merged = first_neighbour_merge(
                centroids(X, labels, n_clusters), max_distance, self.exact_limit
            )
            if merged.max() + 1 == n_clusters:
                break
            labels = merged[labels]
            partitions.append(labels)
        log.info("FINCH levels: %s clusters", [int(p.max()) + 1 for p in partitions])
        return partitions

    def _cluster(self, X: np.ndarray) -> np.ndarray:
        if self.n_clusters is None:
            self.partitions_ = self._hierarchy(X, self._threshold(X, "pair"))
            return self.partitions_[-1]
        self.partitions_ = self._hierarchy(X, None)
        finer = [p for p in self.partitions_ if p.max() + 1 >= self.n_clusters]
        labels = finer[-1] if finer else np.arange(len(X))
        while labels.max() + 1 > self.n_clusters:
            labels = merge_closest_pair(X, labels)
        return labels

    def _reassign_distance(self, X: np.ndarray) -> float | None:
        return None if self.n_clusters is not None else self._threshold(X, "pair")
