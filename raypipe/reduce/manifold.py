"""UMAP: a non-linear embedding that keeps neighbourhoods, which suits density clusterers."""

from __future__ import annotations

import numpy as np

from raypipe.reduce.base import Reducer


class UMAPReducer(Reducer):
    """UMAP (umap-learn) to ``n_components`` dims with cosine input distances.

    ``min_dist=0`` packs neighbours tightly, which is what clustering wants (not plotting).
    """

    def __init__(
        self,
        *,
        n_components: int = 10,
        n_neighbors: int = 30,
        min_dist: float = 0.0,
        metric: str = "cosine",
        normalize: bool = True,
        seed: int = 0,
    ):
        self.n_components = n_components
        self.n_neighbors = n_neighbors
        self.min_dist = min_dist
        self.metric = metric
        self.normalize = normalize
        self.seed = seed

    def _fit(self, X: np.ndarray) -> None:
        import umap

        self.umap_ = umap.UMAP(
            n_components=min(self.n_components, X.shape[0] - 2),
            n_neighbors=min(self.n_neighbors, X.shape[0] - 1),
            min_dist=self.min_dist,
            metric=self.metric,
            random_state=self.seed,
        ).fit(X)

    def _transform(self, X: np.ndarray) -> np.ndarray:
        return self.umap_.transform(X)

    def fit_transform(self, X: np.ndarray, y=None) -> np.ndarray:
        """UMAP's own embedding of the fitted rows (its ``transform`` only approximates it)."""
        self.fit(X)
        return self._finish(self.umap_.embedding_)
