"""The reducer contract: fit on features, transform any rows, unit-length output by default."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from raypipe.embed.base import l2_normalize


class Reducer(TransformerMixin, BaseEstimator):
    """Subclasses implement ``_fit(X)`` and ``_transform(X)``; this class handles normalisation."""

    normalize: bool = True

    def fit(self, X: np.ndarray, y=None) -> Reducer:
        self._fit(np.asarray(X, dtype=np.float32))
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        return self._finish(self._transform(np.asarray(X, dtype=np.float32)))

    def _finish(self, reduced: np.ndarray) -> np.ndarray:
        """float32 output, L2-normalised rows when ``normalize``."""
        reduced = np.asarray(reduced, dtype=np.float32)
        return l2_normalize(reduced) if self.normalize else reduced

    def _fit(self, X: np.ndarray) -> None:
        raise NotImplementedError

    def _transform(self, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError
