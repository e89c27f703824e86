"""Face quality: size, detector score, sharpness and yaw, and the verdict whether to cluster a face."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from raypipe.config import QualityConfig
from raypipe.detect.base import Face


@dataclass(frozen=True)
class Quality:
    face_px: float  # side of the square with the box's area, original pixels
    sharpness: float  # variance of the Laplacian of the grey chip
    yaw: float  # degrees, from the nose's offset between the eyes; NaN without landmarks


def measure(face: Face, chip: np.ndarray, scale: float = 1.0) -> Quality:
    """Quality of ``face`` (box in decoded pixels, ``scale`` original pixels per decoded one)."""
    x1, y1, x2, y2 = face.box
    face_px = float(np.sqrt(max(x2 - x1, 0.0) * max(y2 - y1, 0.0))) * scale
    grey = cv2.cvtColor(chip, cv2.COLOR_RGB2GRAY)
    sharpness = float(cv2.Laplacian(grey, cv2.CV_64F).var())
    return Quality(face_px, sharpness, estimate_yaw(face.landmarks))


def estimate_yaw(landmarks: np.ndarray | None) -> float:
    """Yaw in degrees (0 frontal, +-90 profile) from the five ArcFace points.

    >>> round(estimate_yaw(np.array([[30, 50], [70, 50], [50, 70], [35, 90], [65, 90]])), 1)
    0.0
    """
    if landmarks is None:
        return float("nan")
    left_eye, right_eye, nose = landmarks[0], landmarks[1], landmarks[2]
    half_span = np.linalg.norm(right_eye - left_eye) / 2
    if half_span < 1e-6:
        return 90.0
    axis = (right_eye - left_eye) / (2 * half_span)
    offset = float(np.dot(nose - (left_eye + right_eye) / 2, axis)) / half_span
    return float(np.degrees(np.arcsin(np.clip(offset, -1.0, 1.0))))


def verdict(quality: Quality, det_score: float, config: QualityConfig) -> str:
    """Empty when the face is fit to cluster, else the reasons it is set aside (``;``-joined)."""
    if not config.enabled:
        return ""
    reasons = []
    if quality.face_px < config.min_face_px:
        reasons.append(f"small face ({quality.face_px:.0f} px < {config.min_face_px:g})")
    if det_score < config.min_det_score:
        reasons.append(f"low detector score ({det_score:.2f} < {config.min_det_score:g})")
    if quality.sharpness < config.min_sharpness:
        reasons.append(f"blurred ({quality.sharpness:.0f} < {config.min_sharpness:g})")
    if abs(quality.yaw) > config.max_abs_yaw:
        reasons.append(f"profile (yaw {quality.yaw:.0f} deg)")
    return "; ".join(reasons)
