"""Scores of comic mode against composed pages (:mod:`raypipe.testing.comic_pages`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from raypipe.comic.panels import Box
from raypipe.detect.boxes import box_iou
from raypipe.evaluation.detection import match_detections


def box_scores(
    predicted: Sequence[Sequence[Box]], truth: Sequence[Sequence[Box]], iou: float = 0.5
) -> dict[str, float]:
    """Recall and precision of predicted boxes against true boxes, page by page, at ``iou``."""
    tp = fp = fn = 0
    for pred_boxes, true_boxes in zip(predicted, truth, strict=True):
        page_tp, page_fp, page_fn = match_detections(_array(pred_boxes), _array(true_boxes), iou)
        tp, fp, fn = tp + page_tp, fp + page_fp, fn + page_fn
    return {
        "recall": tp / (tp + fn) if tp + fn else 1.0,
        "precision": tp / (tp + fp) if tp + fp else 1.0,
        "true_positives": tp,
        "false_positives": fp,
        "false_negatives": fn,
    }


def in_reading_order(predicted: Sequence[Box], truth: Sequence[Box]) -> bool:
    """True when the predicted panels match the true ones one to one and in the same order."""
    if len(predicted) != len(truth) or not truth:
        return len(predicted) == len(truth)
    best = box_iou(_array(truth), _array(predicted)).argmax(axis=1)
    return best.tolist() == list(range(len(truth)))


def matched_labels(
    predicted: Sequence[Box], truth: Sequence[Box], labels: Sequence[str], iou: float = 0.5
) -> list[str | None]:
    """The label of the true box each predicted box overlaps most (None below ``iou``)."""
    if not truth or not predicted:
        return [None] * len(predicted)
    overlaps = box_iou(_array(predicted), _array(truth))
    best = overlaps.argmax(axis=1)
    return [labels[j] if overlaps[i, j] >= iou else None for i, j in enumerate(best)]


def _array(boxes: Sequence[Box]) -> np.ndarray:
    return np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
