"""Checks of found panels against the page itself: a panel must show something.

The page model sometimes reads a page's blank margin (white paper, or the black of a dark page)
as a panel. A panel is dropped when the middle of its box is nearly one flat tone: under
``least`` of its pixels differ from the box's median grey by more than ``TONE_STEP``. The middle
is the box less ``INNER`` of its size on each side, so that a neighbour's border line or art the
box was grown over does not count. Chosen on synthetic validation pages: docs/manga-pages.md.
"""

from __future__ import annotations

import cv2
import numpy as np

from raypipe.comic.cuts import area
from raypipe.comic.reading import Box

TONE_STEP = 48  # grey levels from the box's median that make a pixel "something drawn"
INNER = 0.15  # share of the box's width and height left out on each side
SEAM = 0.012  # how far apart (share of the page's longer side) two fragments of a panel may lie
LINE_WIDTH = 11  # pixels: a frame line is a dark line thinner than this along the seam
BLANK_LEAST = 0.005  # drawn share under which a found panel is blank (synthetic validation)


def drawn_share(grey: np.ndarray, box: Box) -> float:
    """Share of the middle of ``box`` (page pixels) that differs from its median grey."""
    x1, y1, x2, y2 = box
    dx, dy = round(INNER * (x2 - x1)), round(INNER * (y2 - y1))
    middle = grey[y1 + dy : max(y2 - dy, y1 + dy + 1), x1 + dx : max(x2 - dx, x1 + dx + 1)]
    if not middle.size:
        return 0.0
    return float((np.abs(middle.astype(np.int16) - int(np.median(middle))) > TONE_STEP).mean())


def drop_blank(boxes: list[Box], grey: np.ndarray, least: float) -> list[Box]:
    """``boxes`` less those whose middle is nearly one flat tone (under ``least`` drawn)."""
    return [box for box in boxes if drawn_share(grey, box) >= least]



def joined_fragments(boxes: list[Box], grey: np.ndarray, line_share: float, dark: int = 100) -> list[Box]:
    """``boxes`` with each pair of fragments of one panel joined: two boxes one above the other
    (or side by side) spanning the same width (height), whose seam shows neither a gutter (a
    line of paper across the span) nor a frame (a thin straight dark line along ``line_share``
    of the span):
    the model cut a panel where a balloon or white art crosses it."""
    boxes = list(boxes)
    joined = True
    while joined:
        joined = False
        for a, b in ((a, b) for a in boxes for b in boxes if a != b):
            for axis in (0, 1):
                if _seamless(a, b, axis, grey, line_share, dark):
                    boxes = [box for box in boxes if box not in (a, b)] + [_union(a, b)]
                    joined = True
                    break
            if joined:
                break
    return boxes


def _seamless(a: Box, b: Box, axis: int, grey: np.ndarray, line_share: float, dark: int) -> bool:
    """Whether ``b`` follows ``a`` over the same span of ``axis`` (0: the same columns, ``b``
    below; 1: the same rows, ``b`` to the right), with no gutter and no frame between them."""
    height, width = grey.shape
    near = round(SEAM * max(height, width))
    lo, hi = max(a[axis], b[axis]), min(a[axis + 2], b[axis + 2])  # the shared span
    spans = (a[axis + 2] - a[axis], b[axis + 2] - b[axis])
    if hi - lo < 0.9 * max(spans) or abs(b[1 - axis] - a[3 - axis]) > near:
        return False
    start, end = min(a[3 - axis], b[1 - axis]) - near, max(a[3 - axis], b[1 - axis]) + near
    seam = grey[max(0, start) : end, lo:hi] if axis == 0 else grey[lo:hi, max(0, start) : end].T
    if not seam.size:
        return False
    gutter = ((seam > 255 - dark).mean(axis=1) >= 0.9).any()
    thin = cv2.morphologyEx(seam, cv2.MORPH_BLACKHAT, np.ones((LINE_WIDTH, 1), np.uint8)) > dark / 2
    run = max(2, round(line_share * (hi - lo)))
    frame = cv2.morphologyEx(thin.astype(np.uint8), cv2.MORPH_OPEN, np.ones((1, run), np.uint8)).any()
    return not gutter and not frame


def _union(a: Box, b: Box) -> Box:
    return min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])

def intersection(a: Box, b: Box) -> int:
    """Pixels two boxes share."""
    return area((max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])))


def _iou(a: Box, b: Box) -> float:
    both = intersection(a, b)
    return both / max(area(a) + area(b) - both, 1)
