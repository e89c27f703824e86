"""The whole image is one face: for datasets of pre-cropped faces.

With ``reframe: drawn-faces`` (what ``--domain comic`` runs unless told otherwise:
:func:`raypipe.detect.select.resolve_detector`) the one face is the best box raypipe's drawn-face
detector finds in the crop, so that every crop is chipped around its face as a page's faces are,
however tightly or loosely it was cut; the whole image when it finds none (docs/drawn-faces.md,
"Issue 25, tenth round").
"""

from __future__ import annotations

import cv2
import numpy as np

from raypipe.align import ARCFACE_TEMPLATE, similarity_transform
from raypipe.detect.base import Detector, Face

#: ``reframe``: the whole image as it is, or the drawn-face detector's best box in it.
REFRAME_MODES = ("none", "drawn-faces")


class WholeImageDetector(Detector):
    """Returns one face covering the image, shrunk by ``margin`` (a fraction of each side); with
    ``reframe: drawn-faces``, the best face :class:`~raypipe.detect.drawn.DrawnFaceDetector` finds
    in it (with its default settings, under ``model_root``), the image as before when none.

    The face is still aligned by the embedder (landmarks predicted in the box); for crops that
    are already aligned, :class:`AlignedCropDetector` skips that.
    """

    def __init__(self, margin: float = 0.0, reframe: str = "none", model_root: str | None = None, device: str = "cpu"):
        if not 0 <= margin < 0.5:
            raise ValueError("margin must be in [0, 0.5)")
        if reframe not in REFRAME_MODES:
            raise ValueError(f"reframe must be one of {', '.join(REFRAME_MODES)}, not {reframe!r}")
        self.margin = margin
        self.reframe = reframe
        self._finder = None
        if reframe == "drawn-faces":
            from raypipe.detect.drawn import DrawnFaceDetector

            self._finder = DrawnFaceDetector(model_root=model_root, device=device)

    def detect(self, image: np.ndarray) -> list[Face]:
        if self._finder is not None:
            found = self._finder.detect(image)
            if found:
                return [max(found, key=lambda face: face.score)]
        h, w = image.shape[:2]
        dx, dy = w * self.margin, h * self.margin
        return [Face((dx, dy, w - dx, h - dy), 1.0)]


class AlignedCropDetector(WholeImageDetector):
    """``detector: aligned``: each image is one face already aligned (MS1M, VGGFace2, CASIA, or
    a run's exported chips). No detection, no landmarks: the chip is the image brought to the
    embedder's input by a fixed transform (:func:`aligned_chip`). ``framing``: how the crops
    were aligned, ``arcface`` (insightface's 112x112 template, as in MS1M/Glint and a run's
    ArcFace chips) or ``dlib`` (dlib's 150 px chips with padding 0.25)."""

    gives_aligned_chips = True

    def __init__(self, framing: str = "arcface"):
        super().__init__(margin=0.0)
        if framing not in FRAMINGS:
            raise ValueError(f"framing must be one of {sorted(FRAMINGS)}")
        self.framing = framing


#: Where the five ArcFace points lie in a chip of each framing, as fractions of its side.
#: ``dlib``: measured on dlib's own 150 px chips (padding 0.25) of the sample's LFW photos;
#: tests/test_aligned_crops.py checks it against dlib.get_face_chip.
FRAMINGS = {
    "arcface": ARCFACE_TEMPLATE / 112.0,
    "dlib": np.array(
        [[47.83, 46.67], [100.72, 46.74], [73.44, 76.04], [52.22, 107.61], [99.65, 108.52]], np.float32
    ) / 150.0,
}


def aligned_chip(image: np.ndarray, size: int, crop_framing: str = "arcface", chip_framing: str | None = None) -> np.ndarray:
    """The aligned crop ``image`` as a ``size`` x ``size`` chip of ``chip_framing``: resized when
    the framings agree (or ``chip_framing`` is ``None``), else warped by the similarity transform
    between the two framings' five points (edges replicated)."""
    h, w = image.shape[:2]
    if chip_framing is None or chip_framing == crop_framing:
        if (h, w) == (size, size):
            return np.ascontiguousarray(image)
        interpolation = cv2.INTER_AREA if max(h, w) > size else cv2.INTER_LINEAR
        return cv2.resize(image, (size, size), interpolation=interpolation)
    source = FRAMINGS[crop_framing] * np.float32([w, h])
    matrix = similarity_transform(source.astype(np.float64), FRAMINGS[chip_framing].astype(np.float64) * size)
    return cv2.warpAffine(image, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
