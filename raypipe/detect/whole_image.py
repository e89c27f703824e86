"""The whole image is one face: for datasets of pre-cropped faces."""

from __future__ import annotations

import cv2
import numpy as np

from raypipe.detect.base import Detector, Face


class WholeImageDetector(Detector):
    """Returns one face covering the image, shrunk by ``margin`` (a fraction of each side).

    The face is still aligned by the embedder (landmarks predicted in the box); for crops that
    are already aligned, :class:`AlignedCropDetector` skips that.
    """

    def __init__(self, margin: float = 0.0):
        if not 0 <= margin < 0.5:
            raise ValueError("margin must be in [0, 0.5)")
        self.margin = margin

    def detect(self, image: np.ndarray) -> list[Face]:
        h, w = image.shape[:2]
        dx, dy = w * self.margin, h * self.margin
        return [Face((dx, dy, w - dx, h - dy), 1.0)]


class AlignedCropDetector(WholeImageDetector):
    """``detector: aligned``: each image is one face already aligned (MS1M, VGGFace2, CASIA, or
    the ``chips/`` of a run). No detection, no landmarks: the chip is the image resized to the
    embedder's input (:func:`aligned_chip`)."""

    gives_aligned_chips = True

    def __init__(self):
        super().__init__(margin=0.0)


def aligned_chip(image: np.ndarray, size: int) -> np.ndarray:
    """``image`` resized to ``size`` x ``size`` (area averaging when shrinking)."""
    h, w = image.shape[:2]
    if (h, w) == (size, size):
        return np.ascontiguousarray(image)
    interpolation = cv2.INTER_AREA if max(h, w) > size else cv2.INTER_LINEAR
    return cv2.resize(image, (size, size), interpolation=interpolation)
