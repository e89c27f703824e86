"""What every face detector returns."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Face:
    """One detected face, in the pixel coordinates of the image given to the detector.

    ``landmarks`` holds the five ArcFace points (left eye, right eye, nose tip, left mouth
    corner, right mouth corner; "left" as seen in the image) as a (5, 2) float32 array, or is
    ``None`` for detectors that give no landmarks.
    """

    box: tuple[float, float, float, float]  # x1, y1, x2, y2
    score: float
    landmarks: np.ndarray | None = None

    def scaled(self, factor: float) -> Face:
        """The same face in an image resized by ``1 / factor`` (coordinates multiplied)."""
        lm = None if self.landmarks is None else (self.landmarks * factor).astype(np.float32)
        return Face(tuple(float(v) * factor for v in self.box), self.score, lm)


class Detector(ABC):
    """A face detector: built from keyword settings, loads its model once, detects per image."""

    #: True when :meth:`detect` fills ``Face.landmarks``.
    gives_landmarks: bool = False
    #: True when each image is one face already aligned: its chip is the image resized
    #: (:func:`raypipe.detect.whole_image.aligned_chip`), with no landmarks and no warping.
    gives_aligned_chips: bool = False
    #: True when this instance runs its model on a GPU.
    uses_gpu: bool = False
    #: True when the model can run on a GPU where there is one (a driver on a CPU-only head
    #: then still asks the cluster for GPUs for it).
    gpu_capable: bool = False

    @classmethod
    def missing_models(cls, params: dict) -> str | None:
        """Why the model files these settings need cannot be found (None: nothing missing).

        Checked on the driver before any worker starts, so a missing model is one line."""
        return None

    @abstractmethod
    def detect(self, image: np.ndarray) -> list[Face]:
        """Faces in an RGB uint8 image of shape (H, W, 3), best first."""

    def detect_batch(self, images: list[np.ndarray]) -> list[list[Face]]:
        """Faces of each image; detectors that batch on a GPU override this."""
        return [self.detect(image) for image in images]
