"""The feature extractor contract and the chip preprocessing shared by the extractors."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin


class FeatureExtractor(TransformerMixin, BaseEstimator):
    """One fixed-length vector per aligned RGB uint8 chip (any square size).

    Subclasses implement :meth:`describe` (one chip -> 1-d vector) or override
    :meth:`transform` for batched work; extractors that learn something override :meth:`fit`
    and expose their learned arrays through :meth:`get_state` / :meth:`set_state` so that they
    can be stored (as ``.npz``, never pickled) beside the features.
    """

    #: Batch column read by :meth:`__call__`.
    input_column: str = "chip"
    #: Column added by :meth:`__call__`.
    output_column: str = "feature"
    #: True when :meth:`fit` learns from the chips (a vocabulary, a network).
    learns: bool = False

    def fit(self, chips: Sequence[np.ndarray], y: Any = None) -> FeatureExtractor:
        return self

    def transform(self, chips: Sequence[np.ndarray]) -> np.ndarray:
        vectors = [self.describe(chip) for chip in chips]
        return np.asarray(vectors, dtype=np.float32).reshape(len(vectors), -1)

    def describe(self, chip: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} implements transform() instead")

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Ray Data ``map_batches`` stage: the batch with a ``feature`` column added."""
        out = dict(batch)
        out[self.output_column] = self.transform(list(batch[self.input_column]))
        return out

    def get_state(self) -> dict[str, np.ndarray]:
        """Learned arrays (empty for extractors that learn nothing)."""
        return {}

    def set_state(self, state: dict[str, np.ndarray]) -> FeatureExtractor:
        """Restore what :meth:`get_state` returned, making the extractor fitted."""
        return self


def square_resize(chip: np.ndarray, size: int) -> np.ndarray:
    """``chip`` (H, W, C) resized to (size, size, C); area interpolation when shrinking."""
    if chip.shape[0] == size and chip.shape[1] == size:
        return chip
    shrinking = chip.shape[0] > size or chip.shape[1] > size
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    return cv2.resize(chip, (size, size), interpolation=interpolation)


def to_grey(chip: np.ndarray) -> np.ndarray:
    """RGB uint8 (H, W, 3) -> grey uint8 (H, W); grey input is returned as is."""
    return chip if chip.ndim == 2 else cv2.cvtColor(chip, cv2.COLOR_RGB2GRAY)


def normalise_histograms(hists: np.ndarray, power: float = 0.5) -> np.ndarray:
    """Each row of ``hists`` to unit sum, then raised to ``power`` (0.5 = Hellinger)."""
    hists = hists.astype(np.float32)
    hists /= np.maximum(hists.sum(axis=-1, keepdims=True), 1e-12)
    return np.power(hists, power)
