"""k-means and mini-batch k-means, with k given or chosen by the silhouette on a sample."""

from __future__ import annotations

import logging

import numpy as np
from sklearn.cluster import KMeans as SkKMeans
from sklearn.cluster import MiniBatchKMeans as SkMiniBatchKMeans
from sklearn.metrics import silhouette_score

from raypipe.cluster.base import Clusterer

log = logging.getLogger(__name__)


def candidate_ks(n: int, k_min: int, k_max: int, steps: int) -> np.ndarray:
    """Up to ``steps`` geometrically spaced k in ``[k_min, min(k_max, n / 2)]``."""
    k_max = max(min(k_max, n // 2), k_min)
    return np.unique(np.geomspace(k_min, k_max, steps).round().astype(int))


class KMeans(Clusterer):
    """k-means on unit vectors (squared Euclidean = 2 x cosine distance).

    Parameters
    ----------
    n_clusters : k; None chooses k by the highest mean silhouette (cosine distance, on a
        sample of ``silhouette_sample`` faces) among ``k_steps`` geometrically spaced values in
        ``[k_min, k_max]``, then among the integers between the best one's grid neighbours.
    cannot_link : move the farther of two same-group faces to its next nearest centre.
    """

    def __init__(
        self,
        *,
        n_clusters: int | None = None,
        k_min: int = 2,
        k_max: int = 1000,
        k_steps: int = 24,
        silhouette_sample: int = 5000,
        n_init: int = 3,
        cannot_link: bool = False,
        seed: int = 0,
    ):
        self.n_clusters = n_clusters
        self.k_min = k_min
        self.k_max = k_max
        self.k_steps = k_steps
        self.silhouette_sample = silhouette_sample
        self.n_init = n_init
        self.cannot_link = cannot_link
        self.seed = seed

    def _estimator(self, k: int):
        return SkKMeans(n_clusters=k, n_init=self.n_init, random_state=self.seed)

    def _best_by_silhouette(self, X: np.ndarray, ks) -> tuple[float, int, np.ndarray]:
        """(silhouette, k, labels) of the best k among ``ks``."""
        best = (-np.inf, 0, None)
        for k in ks:
            labels = self._estimator(int(k)).fit_predict(X)
            score = silhouette_score(
                X,
                labels,
                metric="cosine",
                random_state=self.seed,
                sample_size=min(self.silhouette_sample, len(X)),
            )
            log.debug("k=%d silhouette=%.4f", k, score)
            best = max(best, (score, int(k), labels), key=lambda result: result[0])
        return best

    def _cluster(self, X: np.ndarray) -> np.ndarray:
        if self.n_clusters is not None:
            return self._estimator(min(self.n_clusters, len(X))).fit_predict(X)
        if len(X) <= self.k_min + 1:
            return np.arange(len(X))
        coarse = candidate_ks(len(X), self.k_min, self.k_max, self.k_steps)
        score, k, labels = self._best_by_silhouette(X, coarse)
        position = int(np.searchsorted(coarse, k))
        low, high = coarse[max(position - 1, 0)], coarse[min(position + 1, len(coarse) - 1)]
        fine = np.setdiff1d(np.unique(np.linspace(low, high, 10).round().astype(int)), coarse)
        score, k, labels = max(
            (score, k, labels), self._best_by_silhouette(X, fine), key=lambda result: result[0]
        )
        self.chosen_k_ = k
        log.info("k-means chose k=%d (silhouette %.3f)", k, score)
        return labels


class MiniBatchKMeans(KMeans):
    """Mini-batch k-means: same settings as :class:`KMeans`, plus ``batch_size``."""

    def __init__(
        self,
        *,
        n_clusters: int | None = None,
        k_min: int = 2,
        k_max: int = 1000,
        k_steps: int = 24,
        silhouette_sample: int = 5000,
        n_init: int = 3,
        batch_size: int = 4096,
        cannot_link: bool = False,
        seed: int = 0,
    ):
        super().__init__(
            n_clusters=n_clusters,
            k_min=k_min,
            k_max=k_max,
            k_steps=k_steps,
            silhouette_sample=silhouette_sample,
            n_init=n_init,
            cannot_link=cannot_link,
            seed=seed,
        )
        self.batch_size = batch_size

    def _estimator(self, k: int):
        return SkMiniBatchKMeans(
            n_clusters=k, n_init=self.n_init, batch_size=self.batch_size, random_state=self.seed
        )
