"""The whole image is one face: for datasets of pre-cropped faces."""

from __future__ import annotations

import numpy as np

from raypipe.detect.base import Detector, Face


class WholeImageDetector(Detector):
    """Returns one face covering the image, shrunk by ``margin`` (a fraction of each side)."""

    def __init__(self, margin: float = 0.0):
        if not 0 <= margin < 0.5:
            raise ValueError("margin must be in [0, 0.5)")
        self.margin = margin

    def detect(self, image: np.ndarray) -> list[Face]:
        h, w = image.shape[:2]
        dx, dy = w * self.margin, h * self.margin
        return [Face((dx, dy, w - dx, h - dy), 1.0)]
