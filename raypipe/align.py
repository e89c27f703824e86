"""Landmarks and alignment: dlib's 68 points -> the five ArcFace points -> similarity-warped chips."""

from __future__ import annotations

import cv2
import numpy as np

from raypipe.detect.base import Face

#: insightface's ``arcface_dst``: the five points in a 112x112 ArcFace chip.
ARCFACE_TEMPLATE = np.array(
    [
        [38.2946, 51.6963],
        [73.5318, 51.5014],
        [56.0252, 71.7366],
        [41.5493, 92.3655],
        [70.7299, 92.2041],
    ],
    dtype=np.float32,
)


def dlib_rect(box: tuple[float, float, float, float]):
    import dlib

    x1, y1, x2, y2 = (round(v) for v in box)
    return dlib.rectangle(x1, y1, x2, y2)


def arcface_points_from_68(points: np.ndarray) -> np.ndarray:
    """Eye centres, nose tip and mouth corners from the iBUG 68-point layout: ``(..., 68, 2)`` ->
    ``(..., 5, 2)`` float32 (one face or many)."""
    return np.stack(
        [
            points[..., 36:42, :].mean(axis=-2),  # eye on the image's left (subject's right)
            points[..., 42:48, :].mean(axis=-2),
            points[..., 30, :],
            points[..., 48, :],
            points[..., 54, :],
        ],
        axis=-2,
    ).astype(np.float32)


class Landmarker68:
    """dlib's 68-point shape predictor, reduced to the five ArcFace points."""

    def __init__(self):
        import dlib

        from raypipe.models import dlib_model

        self._predictor = dlib.shape_predictor(dlib_model("shape_predictor_68"))

    def __call__(self, image: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
        shape = self._predictor(image, dlib_rect(box))
        points = np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float32)
        return arcface_points_from_68(points)

    def fill(self, image: np.ndarray, faces: list[Face]) -> list[Face]:
        """``faces`` with landmarks predicted for those that have none."""
        return [
            f if f.landmarks is not None else Face(f.box, f.score, self(image, f.box)) for f in faces
        ]


def norm_crop(image: np.ndarray, landmarks: np.ndarray, size: int = 112) -> np.ndarray:
    """ArcFace alignment: the similarity transform taking ``landmarks`` onto the template."""
    template = ARCFACE_TEMPLATE * (size / 112.0)
    matrix, _ = cv2.estimateAffinePartial2D(
        np.asarray(landmarks, dtype=np.float32), template, method=cv2.LMEDS
    )
    if matrix is None:  # degenerate landmarks: fall back to a least-squares fit
        matrix = similarity_transform(np.asarray(landmarks, dtype=np.float64), template.astype(np.float64))
    return cv2.warpAffine(image, matrix, (size, size), borderValue=0.0)


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity transform (2x3) from ``src`` to ``dst`` points."""
    src_mean, dst_mean = src.mean(0), dst.mean(0)
    src_c, dst_c = src - src_mean, dst - dst_mean
    cov = dst_c.T @ src_c / len(src)
    u, s, vt = np.linalg.svd(cov)
    sign = np.eye(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[1, 1] = -1
    rotation = u @ sign @ vt
    var = max((src_c**2).sum() / len(src), 1e-12)
    scale = np.trace(np.diag(s) @ sign) / var
    shift = dst_mean - scale * rotation @ src_mean
    return np.hstack([scale * rotation, shift[:, None]]).astype(np.float32)
