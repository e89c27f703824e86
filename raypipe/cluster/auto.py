"""The default clusterer: no k, a calibrated "same person" threshold, cannot-link on.

Up to ``small_limit`` faces: average-linkage agglomerative clustering on cosine distance, cut at
the threshold (exact, quadratic). Above: a faiss k-NN graph, thresholded, split by Chinese
Whispers (linear in n; a million 128-d faces in a few minutes).
"""

from __future__ import annotations

import logging

import numpy as np

from raypipe.cluster.agglomerative import Agglomerative
from raypipe.cluster.base import QUADRATIC_LIMIT, Clusterer
from raypipe.cluster.graph import ChineseWhispers

log = logging.getLogger(__name__)


class AutoClusterer(Clusterer):
    """Average linkage for small sets, Chinese Whispers on a k-NN graph for large ones.

    Parameters
    ----------
    threshold : "same person" cosine distance: the average-linkage cut for small sets, the
        longest graph edge for large ones; None: the calibrated values for ``model``.
    model : embedding model name (faces.parquet ``embedder``), None: guessed from the dimension.
    cannot_link : no two faces of one group (image) in one cluster.
    small_limit : largest set clustered exactly.
    k : neighbours per face in the large-set graph.
    """

    def __init__(
        self,
        threshold: float | None = None,
        model: str | None = None,
        cannot_link: bool = True,
        small_limit: int = QUADRATIC_LIMIT,
        k: int = 10,
        seed: int = 0,
    ):
        self.threshold = threshold
        self.model = model
        self.cannot_link = cannot_link
        self.small_limit = small_limit
        self.k = k
        self.seed = seed

    def _delegate(self, X: np.ndarray) -> Clusterer:
        if len(X) <= self.small_limit:
            return Agglomerative(
                linkage="average", threshold=self._threshold(X, "average"), max_n=self.small_limit
            )
        return ChineseWhispers(threshold=self._threshold(X, "pair"), k=self.k, seed=self.seed)

    def _cluster(self, X: np.ndarray) -> np.ndarray:
        self.method_ = self._delegate(X)
        log.info("auto clusterer: %d faces -> %s", len(X), self.method_)
        return self.method_.fit(X).labels_

    def _reassign_distance(self, X: np.ndarray) -> float | None:
        return self.method_._reassign_distance(X)
