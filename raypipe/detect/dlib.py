"""dlib's HOG + linear SVM and CNN (MMOD) face detectors."""

from __future__ import annotations

import cv2
import numpy as np

from raypipe.detect.base import Detector, Face


class _DlibDetector(Detector):
    """Shared logic: downscale big images, upsample small ones, retry tight crops with padding.

    ``upsample``: times dlib doubles the image before detecting, or ``"auto"`` (once when the
    longer side is at most ``small_side``). ``detect_side``: images are shrunk to this longer
    side for detection and boxes are mapped back. ``pad_retry``: when nothing is found, pad the
    image by a quarter on each side and try again, so a crop that is all face still yields it.
    """

    def __init__(
        self,
        upsample: int | str = "auto",
        detect_side: int = 1600,
        small_side: int = 1000,
        min_score: float = 0.0,
        pad_retry: bool = True,
    ):
        self.upsample = upsample
        self.detect_side = detect_side
        self.small_side = small_side
        self.min_score = min_score
        self.pad_retry = pad_retry

    def _raw(self, image: np.ndarray, upsample: int) -> list[Face]:
        raise NotImplementedError

    def detect(self, image: np.ndarray) -> list[Face]:
        factor = max(1.0, max(image.shape[:2]) / self.detect_side)
        small = image
        if factor > 1:
            h, w = image.shape[:2]
            small = cv2.resize(image, (round(w / factor), round(h / factor)), interpolation=cv2.INTER_AREA)
        upsample = self._upsample_for(small)
        faces = self._raw(small, upsample)
        if not faces and self.pad_retry:
            faces = self._padded(small, upsample)
        faces = [f.scaled(factor) for f in faces if f.score >= self.min_score]
        return sorted(faces, key=lambda f: -f.score)

    def _upsample_for(self, image: np.ndarray) -> int:
        if self.upsample == "auto":
            return 1 if max(image.shape[:2]) <= self.small_side else 0
        return int(self.upsample)

    def _padded(self, image: np.ndarray, upsample: int) -> list[Face]:
        h, w = image.shape[:2]
        pad = max(h, w) // 4
        padded = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
        faces = self._raw(padded, upsample)
        return [
            Face(_clip_box((x1 - pad, y1 - pad, x2 - pad, y2 - pad), w, h), f.score)
            for f in faces
            for x1, y1, x2, y2 in [f.box]
        ]


def _clip_box(box, width: int, height: int) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = box
    return (max(0.0, x1), max(0.0, y1), min(float(width), x2), min(float(height), y2))


class DlibHogDetector(_DlibDetector):
    """dlib's frontal HOG detector (fast on CPU; frontal and near-frontal faces)."""

    def __init__(self, adjust_threshold: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        import dlib

        self.adjust_threshold = adjust_threshold
        self._detector = dlib.get_frontal_face_detector()

    def _raw(self, image: np.ndarray, upsample: int) -> list[Face]:
        rects, scores, _ = self._detector.run(image, upsample, self.adjust_threshold)
        return [
            Face((r.left(), r.top(), r.right(), r.bottom()), float(s)) for r, s in zip(rects, scores)
        ]


class DlibCnnDetector(_DlibDetector):
    """dlib's MMOD CNN detector: better on pose and small faces; seconds per image on CPU."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        import dlib

        from raypipe.models import dlib_model

        self.uses_gpu = bool(getattr(dlib, "DLIB_USE_CUDA", False))
        self._detector = dlib.cnn_face_detection_model_v1(dlib_model("mmod"))

    def _raw(self, image: np.ndarray, upsample: int) -> list[Face]:
        return [
            Face((d.rect.left(), d.rect.top(), d.rect.right(), d.rect.bottom()), float(d.confidence))
            for d in self._detector(image, upsample)
        ]
