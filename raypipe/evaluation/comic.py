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


def centre_claims(predicted: Sequence[Box], regions: Sequence[Box]) -> list[int | None]:
    """For each predicted box (best first), the index of the true region it claims, or None.

    The scoring rule for drawn faces, whose truth is the whole pasted crop rather than a face
    box: a prediction claims the first unclaimed region its centre falls inside; each region is
    claimed once, so a second detection of the same face is a false positive.

    >>> centre_claims([(0, 0, 10, 10), (2, 2, 8, 8), (50, 50, 60, 60)], [(0, 0, 20, 20)])
    [0, None, None]
    """
    claimed: set[int] = set()
    claims: list[int | None] = []
    for x1, y1, x2, y2 in predicted:
        cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
        hit = next(
            (
                j
                for j, (rx1, ry1, rx2, ry2) in enumerate(regions)
                if j not in claimed and rx1 <= cx < rx2 and ry1 <= cy < ry2
            ),
            None,
        )
        if hit is not None:
            claimed.add(hit)
        claims.append(hit)
    return claims


def centre_scores(
    predicted: Sequence[Sequence[Box]], regions: Sequence[Sequence[Box]]
) -> dict[str, float]:
    """Recall and precision, page by page, under :func:`centre_claims`'s rule."""
    tp = n_pred = n_true = 0
    for pred_boxes, true_regions in zip(predicted, regions, strict=True):
        tp += sum(claim is not None for claim in centre_claims(pred_boxes, true_regions))
        n_pred, n_true = n_pred + len(pred_boxes), n_true + len(true_regions)
    return {
        "recall": tp / n_true if n_true else 1.0,
        "precision": tp / n_pred if n_pred else 1.0,
        "true_positives": tp,
        "false_positives": n_pred - tp,
        "false_negatives": n_true - tp,
    }


def matched_labels(
    predicted: Sequence[Box], regions: Sequence[Box], labels: Sequence[str]
) -> list[str | None]:
    """The label of the true region each predicted box claims (:func:`centre_claims`), or None."""
    return [None if j is None else labels[j] for j in centre_claims(predicted, regions)]


def _array(boxes: Sequence[Box]) -> np.ndarray:
    return np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
