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
from raypipe.cluster.calibration import CALIBRATION
from raypipe.cluster.density import HDBSCAN
from raypipe.cluster.graph import ChineseWhispers

log = logging.getLogger(__name__)

#: Smallest cluster HDBSCAN keeps for embeddings without a calibrated threshold (e.g. research
#: features of drawn faces).
UNCALIBRATED_MIN_CLUSTER_SIZE = 3


class AutoClusterer(Clusterer):
    """Average linkage for small sets, Chinese Whispers on a k-NN graph for large ones.

    Parameters
    ----------
    threshold : "same person" cosine distance: the average-linkage cut for small sets, the
        longest graph edge for large ones; None: the calibrated values for ``model``.
    model : embedding model name (faces.parquet ``embedder``), None: guessed from the dimension;
        a model without a calibrated threshold (and no ``threshold`` given) is clustered by HDBSCAN.
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
        if self.threshold is None and self.model is not None and self.model not in CALIBRATION:
            log.info("no calibrated same-person threshold for %s: HDBSCAN, which needs none", self.model)
            return HDBSCAN(min_cluster_size=UNCALIBRATED_MIN_CLUSTER_SIZE)
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
