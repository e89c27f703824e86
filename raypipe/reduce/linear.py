"""Linear reducers: none (normalisation only) and PCA, optionally whitened."""

from __future__ import annotations

import numpy as np
from sklearn.decomposition import PCA

from raypipe.reduce.base import Reducer


class Identity(Reducer):
    """No reduction: the features as they are (L2-normalised when ``normalize``)."""

    def __init__(self, *, normalize: bool = True):
        self.normalize = normalize

    def _fit(self, X: np.ndarray) -> None:
        self.n_features_in_ = X.shape[1]

    def _transform(self, X: np.ndarray) -> np.ndarray:
        return X


class PCAReducer(Reducer):
    """PCA to ``n_components`` (capped at the rank the data allows), whitened when ``whiten``."""

    def __init__(
        self, *, n_components: int = 50, whiten: bool = False, normalize: bool = True, seed: int = 0
    ):
        self.n_components = n_components
        self.whiten = whiten
        self.normalize = normalize
        self.seed = seed

    def _fit(self, X: np.ndarray) -> None:
        k = min(self.n_components, X.shape[0], X.shape[1])
        self.pca_ = PCA(k, whiten=self.whiten, random_state=self.seed).fit(X)

    def _transform(self, X: np.ndarray) -> np.ndarray:
        return self.pca_.transform(X)
