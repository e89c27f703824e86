"""Density-based clustering: DBSCAN (scikit-learn) and HDBSCAN (the ``hdbscan`` package)."""

from __future__ import annotations

import numpy as np
from sklearn.cluster import DBSCAN as SkDBSCAN

from raypipe.cluster.base import QUADRATIC_LIMIT, Clusterer


class DBSCAN(Clusterer):
    """DBSCAN on cosine distance; faces in no dense region are noise (-1).

    Parameters
    ----------
    threshold : eps, the neighbourhood radius (cosine distance); None: the calibrated
        single-pair "same person" distance of ``model``.
    min_samples : faces (itself included) within eps that make a face a core point.
    max_n : size limit (brute-force radius search is quadratic in time and, in dense
        regions, in memory).
    """

    def __init__(
        self,
        *,
        threshold: float | None = None,
        min_samples: int = 2,
        model: str | None = None,
        cannot_link: bool = False,
        max_n: int = QUADRATIC_LIMIT,
    ):
        self.threshold = threshold
        self.min_samples = min_samples
        self.model = model
        self.cannot_link = cannot_link
        self.max_n = max_n

    def _cluster(self, X: np.ndarray) -> np.ndarray:
        eps = self._threshold(X, "pair")
        return SkDBSCAN(eps=eps, min_samples=self.min_samples, metric="cosine").fit_predict(X)

    def _reassign_distance(self, X: np.ndarray) -> float | None:
        return self._threshold(X, "pair")


class HDBSCAN(Clusterer):
    """HDBSCAN (``hdbscan`` package): density clusters of varying density, no k, no eps.

    Runs on Euclidean distance between unit vectors, which orders pairs as cosine does.
    """

    def __init__(
        self,
        *,
        min_cluster_size: int = 2,
        min_samples: int | None = 1,
        cluster_selection_method: str = "eom",
        cannot_link: bool = False,
    ):
        self.min_cluster_size = min_cluster_size
        self.min_samples = min_samples
        self.cluster_selection_method = cluster_selection_method
        self.cannot_link = cannot_link

    def _cluster(self, X: np.ndarray) -> np.ndarray:
        import hdbscan

        return hdbscan.HDBSCAN(
            min_cluster_size=self.min_cluster_size,
            min_samples=self.min_samples,
            cluster_selection_method=self.cluster_selection_method,
            core_dist_n_jobs=1,
        ).fit_predict(X.astype(np.float64))
