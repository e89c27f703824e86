"""Agglomerative (hierarchical) clustering on cosine distance, cut by k or by a distance."""

from __future__ import annotations

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import pdist

from raypipe.cluster.base import QUADRATIC_LIMIT, Clusterer
from raypipe.errors import UsageError

LINKAGES = ("single", "average", "complete", "ward")


class Agglomerative(Clusterer):
    """Hierarchical clustering (quadratic memory: refuses more than ``max_n`` faces).

    Parameters
    ----------
    linkage : single, average, complete or ward (ward merges on Euclidean distance, which on
        unit vectors is ``sqrt(2 * cosine distance)``).
    n_clusters : cut the tree into this many clusters, or
    threshold : cut where the merge distance exceeds it (cosine; Euclidean for ward).
        With neither, the same-person threshold of ``model`` (else data-driven; average linkage).
    model : embedding model name for the calibrated threshold (None: data-driven).
    cannot_link : split clusters holding two faces of one group (see ``fit``'s ``groups``).
    max_n : size limit.
    """

    def __init__(
        self,
        *,
        linkage: str = "average",
        n_clusters: int | None = None,
        threshold: float | None = None,
        model: str | None = None,
        cannot_link: bool = False,
        max_n: int = QUADRATIC_LIMIT,
    ):
        self.linkage = linkage
        self.n_clusters = n_clusters
        self.threshold = threshold
        self.model = model
        self.cannot_link = cannot_link
        self.max_n = max_n

    def _cut_distance(self, X: np.ndarray) -> float:
        if self.linkage == "ward" and self.threshold is None:
            raise UsageError(
                "ward linkage has no same-person threshold: give n_clusters or threshold, "
                "or use average linkage"
            )
        return self._threshold(X, "average")

    def _cluster(self, X: np.ndarray) -> np.ndarray:
        if self.linkage not in LINKAGES:
            raise ValueError(f"unknown linkage {self.linkage!r}; choose one of {LINKAGES}")
        metric = "euclidean" if self.linkage == "ward" else "cosine"
        tree = linkage(pdist(X.astype(np.float64), metric), method=self.linkage)
        if self.n_clusters is not None:
            labels = fcluster(tree, t=self.n_clusters, criterion="maxclust")
        else:
            labels = fcluster(tree, t=self._cut_distance(X), criterion="distance")
        return labels - 1

    def _reassign_distance(self, X: np.ndarray) -> float | None:
        return (
            None if self.n_clusters is not None or self.linkage == "ward" else self._cut_distance(X)
        )
