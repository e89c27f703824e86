"""SIFT and ORB descriptors on a dense grid of each chip, encoded into one vector per face."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from raypipe.features.base import FeatureExtractor, square_resize, to_grey
from raypipe.features.encoding import DescriptorEncoder


class LocalDescriptorEncoded(FeatureExtractor):
    """Dense local descriptors (every ``step`` px, patches of ``patch`` px) + a fitted encoding.

    ``fit(chips)`` learns the vocabulary from the descriptors of up to ``fit_faces`` chips;
    ``encoding`` is ``fisher``, ``vlad`` or ``bow``.
    """

    learns = True

    def __init__(
        self,
        *,
        size: int = 96,
        step: int = 8,
        patch: int = 16,
        encoding: str = "fisher",
        n_words: int = 32,
        pca_dim: int = 32,
        fit_faces: int = 500,
        seed: int = 0,
    ):
        self.size = size
        self.step = step
        self.patch = patch
        self.encoding = encoding
        self.n_words = n_words
        self.pca_dim = pca_dim
        self.fit_faces = fit_faces
        self.seed = seed

    def make_descriptor(self) -> cv2.Feature2D:
        raise NotImplementedError

    def keypoints(self) -> list[cv2.KeyPoint]:
        margin = self.patch // 2
        centres = range(margin, self.size - margin + 1, self.step)
        return [
            cv2.KeyPoint(float(x), float(y), float(self.patch)) for y in centres for x in centres
        ]

    def descriptors(self, chip: np.ndarray) -> np.ndarray:
        """(M, d) float32 descriptors of one chip (M may be 0)."""
        grey = to_grey(square_resize(chip, self.size))
        _, desc = self.make_descriptor().compute(grey, self.keypoints())
        if desc is None:
            return np.zeros((0, 1), dtype=np.float32)
        return self.as_float(desc)

    def as_float(self, descriptors: np.ndarray) -> np.ndarray:
        return descriptors.astype(np.float32)

    def _encoder(self) -> DescriptorEncoder:
        return DescriptorEncoder(
            encoding=self.encoding, n_words=self.n_words, pca_dim=self.pca_dim, seed=self.seed
        )

    def fit(self, chips: Sequence[np.ndarray], y=None) -> LocalDescriptorEncoded:
        rng = np.random.default_rng(self.seed)
        chosen = rng.choice(len(chips), size=min(self.fit_faces, len(chips)), replace=False)
        stacked = np.concatenate([self.descriptors(chips[i]) for i in chosen])
        self.encoder_ = self._encoder().fit(stacked)
        return self

    def transform(self, chips: Sequence[np.ndarray]) -> np.ndarray:
        return self.encoder_.encode([self.descriptors(chip) for chip in chips])

    def get_state(self) -> dict[str, np.ndarray]:
        return dict(self.encoder_.state)

    def set_state(self, state: dict[str, np.ndarray]) -> LocalDescriptorEncoded:
        self.encoder_ = self._encoder()
        self.encoder_.state = {key: np.asarray(value) for key, value in state.items()}
        return self


class SIFTEncoded(LocalDescriptorEncoded):
    """Dense SIFT (128-d, RootSIFT-normalised) encoded by Fisher vectors, VLAD or bag of words."""

    def make_descriptor(self) -> cv2.Feature2D:
        return cv2.SIFT_create()

    def as_float(self, descriptors: np.ndarray) -> np.ndarray:
        descriptors = descriptors.astype(np.float32)
        descriptors /= np.maximum(descriptors.sum(axis=1, keepdims=True), 1e-12)
        return np.sqrt(descriptors)


class ORBEncoded(LocalDescriptorEncoded):
    """Dense ORB (256 binary tests, as 0/1 floats) encoded by Fisher vectors, VLAD or bag of words."""

    def make_descriptor(self) -> cv2.Feature2D:
        return cv2.ORB_create(edgeThreshold=self.patch // 2, patchSize=self.patch)

    def as_float(self, descriptors: np.ndarray) -> np.ndarray:
        return np.unpackbits(descriptors, axis=1).astype(np.float32)
