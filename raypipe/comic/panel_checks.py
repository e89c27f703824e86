"""Checks of found panels against the page itself: a panel must show something.

The page model sometimes reads a page's blank margin (white paper, or the black of a dark page)
as a panel. A panel is dropped when the middle of its box is nearly one flat tone: under
``least`` of its pixels differ from the box's median grey by more than ``TONE_STEP``. The middle
is the box less ``INNER`` of its size on each side, so that a neighbour's border line or art the
box was grown over does not count. Chosen on synthetic validation pages: docs/manga-pages.md.
"""

from __future__ import annotations

import numpy as np

from raypipe.comic.cuts import area
from raypipe.comic.reading import Box

TONE_STEP = 48  # grey levels from the box's median that make a pixel "something drawn"
INNER = 0.15  # share of the box's width and height left out on each side
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


def intersection(a: Box, b: Box) -> int:
    """Pixels two boxes share."""
    return area((max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])))
