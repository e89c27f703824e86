"""Box arithmetic shared by detectors and their evaluation: overlap, non-maximum suppression."""

from __future__ import annotations

import numpy as np


def boxes_overlap(a, b) -> bool:
    """Whether two xyxy boxes share some area (touching edges do not)."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise intersection over union of ``(n, 4)`` and ``(m, 4)`` xyxy boxes: ``(n, m)``."""
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    top_left = np.maximum(a[:, None, :2], b[None, :, :2])
    bottom_right = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.clip(bottom_right - top_left, 0, None).prod(axis=2)
    area_a = (a[:, 2:] - a[:, :2]).clip(0).prod(axis=1)[:, None]
    area_b = (b[:, 2:] - b[:, :2]).clip(0).prod(axis=1)[None, :]
    union = area_a + area_b - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def nms(
    boxes: np.ndarray,
    scores: np.ndarray,
    threshold: float,
    by_min: bool = False,
    groups: np.ndarray | None = None,
) -> np.ndarray:
    """Indices of the boxes kept by greedy non-maximum suppression, best score first.

    A box is dropped when it overlaps a better kept box by more than ``threshold``; overlap is
    intersection over union, or over the smaller area when ``by_min`` (MTCNN's last stage).
    Boxes with different ``groups`` labels (e.g. image indices) never suppress each other.

    >>> nms(np.array([[0, 0, 10, 10], [1, 1, 10, 10], [20, 20, 30, 30]]), np.array([.9, .8, .7]), .5)
    array([0, 2])
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    if groups is not None and len(boxes):
        # Shift each group far from the others so that they cannot overlap.
        span = boxes.max() - min(boxes.min(), 0) + 1
        boxes = boxes + (np.asarray(groups, dtype=np.float64) * span)[:, None]
    x1, y1, x2, y2 = boxes.T
    areas = (x2 - x1).clip(0) * (y2 - y1).clip(0)
    order = np.argsort(-np.asarray(scores), kind="stable")
    keep = []
    while order.size:
        best, rest = order[0], order[1:]
        keep.append(best)
        width = (np.minimum(x2[best], x2[rest]) - np.maximum(x1[best], x1[rest])).clip(0)
        height = (np.minimum(y2[best], y2[rest]) - np.maximum(y1[best], y1[rest])).clip(0)
        inter = width * height
        if by_min:
            denominator = np.minimum(areas[best], areas[rest])
        else:
            denominator = areas[best] + areas[rest] - inter
        order = rest[inter / np.maximum(denominator, 1e-12) <= threshold]
    return np.asarray(keep, dtype=np.int64)


def clip_boxes(boxes: np.ndarray, width: int, height: int) -> np.ndarray:
    """``(n, 4)`` xyxy boxes clipped to an image of ``width`` x ``height`` pixels."""
    return np.clip(boxes, 0, [width, height, width, height])

