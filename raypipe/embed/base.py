"""What every face embedder provides: its alignment and its embedding of aligned chips."""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from raypipe.detect.base import Face


class Embedder(ABC):
    """Turns a face into an aligned chip, and batches of chips into L2-normalised vectors."""

    #: Short model name written to faces.parquet (e.g. ``dlib-resnet-128``).
    model_name: str = ""
    #: Length of the embedding.
    dim: int = 0
    #: Side of the square aligned chip, in pixels.
    chip_size: int = 0
    #: How its chips are aligned (``arcface``, ``dlib``; see ``raypipe.detect.whole_image.FRAMINGS``),
    #: or ``None`` for box crops: aligned crops of another framing are warped into this one.
    framing: str | None = None
    #: Default cosine-distance threshold for "same person" with this embedding.
    same_person_distance: float = 0.5
    uses_gpu: bool = False
    #: True when the model can run on a GPU where there is one (see ``Detector.gpu_capable``).
    gpu_capable: bool = False
    #: False for box-crop embedders: extraction then computes no landmarks the detector lacks.
    aligns_by_landmarks: bool = True

    @abstractmethod
    def align(self, image: np.ndarray, face: Face) -> np.ndarray:
        """Aligned RGB uint8 chip (chip_size, chip_size, 3) of ``face`` in ``image``."""

    @abstractmethod
    def embed(self, chips: np.ndarray) -> np.ndarray:
        """(N, dim) float32 L2-normalised embeddings of RGB chips (N, chip_size, chip_size, 3)."""


def l2_normalize(x: np.ndarray) -> np.ndarray:
    """Rows of ``x`` scaled to unit length (zero rows stay zero)."""
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norms, 1e-12)
