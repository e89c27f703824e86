"""Cutting a page's ink boxes into panels: along border lines, between facing frames, and
along gutters (see :func:`raypipe.comic.panels.extract_panels`)."""

from __future__ import annotations

import cv2
import numpy as np

from raypipe.comic.reading import Box


def border_lines(
    rgb: np.ndarray, min_line: float, grow: int = 1, reach: int = 0, dark: int = 100
) -> np.ndarray:
    """uint8 masks (rows, columns) of the long horizontal and of the long vertical dark lines of a
    page, lengthened by ``reach`` pixels at both ends and grown by ``grow``."""
    height, width = rgb.shape[:2]
    ink = np.where(rgb.max(axis=2) < dark, 255, 0).astype(np.uint8)
    rows = cv2.morphologyEx(
        ink, cv2.MORPH_OPEN, np.ones((1, max(2, round(min_line * width))), np.uint8)
    )
    columns = cv2.morphologyEx(
        ink, cv2.MORPH_OPEN, np.ones((max(2, round(min_line * height)), 1), np.uint8)
    )
    rows = cv2.dilate(rows, np.ones((1, 2 * reach + 1), np.uint8))
    columns = cv2.dilate(columns, np.ones((2 * reach + 1, 1), np.uint8))
    kernel = np.ones((2 * grow + 1, 2 * grow + 1), np.uint8)
    return cv2.dilate(rows, kernel), cv2.dilate(columns, kernel)


def split_at_lines(lines: np.ndarray, box: Box, min_area: float, ink: np.ndarray) -> list[Box]:
    """The pieces of ``box`` that the ``lines`` mask cuts apart, when there are several of at
    least ``min_area`` pixels, each shrunk to its ``ink`` (a piece that reaches round a line's end
    through the page margin is its art, not the margin); else ``[box]`` (a line inside the art that
    ends short splits nothing)."""
    x1, y1, x2, y2 = box
    free = np.where(lines[y1:y2, x1:x2] > 0, 0, 255).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(free, connectivity=4)
    region_ink, whole = ink[y1:y2, x1:x2] > 0, (0, 0, x2 - x1, y2 - y1)
    pieces = []
    for label in np.flatnonzero(stats[1:count, 4] >= min_area) + 1:
        extent = ink_extent((labels == label) & region_ink, whole)
        if extent is not None:
            pieces.append((extent[0] + x1, extent[1] + y1, extent[2] + x1, extent[3] + y1))
    return pieces if len(pieces) > 1 else [box]


def split_between_lines(
    rows: np.ndarray,
    columns: np.ndarray,
    ink: np.ndarray,
    box: Box,
    widest: int,
    min_area: float,
    min_span: float = 0.35,
    max_ink: float = 0.08,
) -> list[Box]:
    """``box`` cut along each strip at most ``widest`` pixels wide that lies between two border
    lines (``rows`` mask, then ``columns``) each spanning at least ``min_span`` of the box, when
    every piece, shrunk to its ``ink``, keeps ``min_area`` pixels; else ``[box]``."""
    x1, y1, x2, y2 = box
    for lines, across in ((rows, False), (columns, True)):
        region = lines[y1:y2, x1:x2] > 0
        spanned = (region.T if across else region).mean(axis=1) >= min_span
        inked = ((ink[y1:y2, x1:x2] > 0).T if across else ink[y1:y2, x1:x2] > 0).mean(axis=1)
        strips = [
            (a, b)
            for a, b in _runs(~spanned, 1)
            if a > 0 and b < len(spanned) and b - a <= widest and inked[a:b].mean() <= max_ink
        ]
        if not strips:
            continue
        cuts = [0] + [edge for strip in strips for edge in strip] + [len(spanned)]
        spans = list(zip(cuts[::2], cuts[1::2]))
        parts = [(x1 + a, y1, x1 + b, y2) if across else (x1, y1 + a, x2, y1 + b) for a, b in spans]
        pieces = [ink_extent(ink, part) for part in parts]
        if all(p is not None and area(p) >= min_area for p in pieces):
            return [
                out
                for p in pieces
                for out in split_between_lines(
                    rows, columns, ink, p, widest, min_area, min_span, max_ink
                )
            ]
    return [box]


def split_at_gutters(
    ink: np.ndarray,
    box: Box,
    min_gap: int,
    max_ink: float,
    min_area: float,
    rows: bool = True,
    tried: int = 0,
) -> list[Box]:
    """``box`` cut along its gutters (runs of at least ``min_gap`` rows or columns with at most
    ``max_ink`` ink and paper at both ends), rows and columns in turn, each piece shrunk to its
    ink; a cut that would leave a piece under ``min_area`` pixels (white art, not a gutter) is not made."""
    x1, y1, x2, y2 = box
    region = ink[y1:y2, x1:x2] > 0
    if tried == 2 or region.size == 0:
        return [box]
    lines = region if rows else region.T
    edge = max(1, lines.shape[1] // 50)
    gutter = (
        (lines.mean(axis=1) <= max_ink)
        & ~lines[:, :edge].any(axis=1)
        & ~lines[:, -edge:].any(axis=1)
    )
    spans = _runs(~gutter, min_gap)
    parts = [(x1, y1 + a, x2, y1 + b) if rows else (x1 + a, y1, x1 + b, y2) for a, b in spans]
    pieces = [ink_extent(ink, part) for part in parts]
    if len(pieces) <= 1 or any(p is None or area(p) < min_area for p in pieces):
        return split_at_gutters(ink, box, min_gap, max_ink, min_area, not rows, tried + 1)
    return [
        out
        for p in pieces
        for out in split_at_gutters(ink, p, min_gap, max_ink, min_area, not rows)
    ]


def _runs(keep: np.ndarray, min_gap: int) -> list[tuple[int, int]]:
    """Spans of ``keep`` separated by gaps (runs of False) of at least ``min_gap``."""
    spans: list[tuple[int, int]] = []
    indices = np.flatnonzero(keep)
    if not len(indices):
        return spans
    breaks = np.flatnonzero(np.diff(indices) > min_gap)
    starts = np.r_[indices[0], indices[breaks + 1]]
    ends = np.r_[indices[breaks], indices[-1]] + 1
    return list(zip(starts.tolist(), ends.tolist()))


def ink_extent(ink: np.ndarray, box: Box) -> Box | None:
    """The bounding box of the ink inside ``box`` (None when there is none)."""
    x1, y1, x2, y2 = box
    ys, xs = np.nonzero(ink[y1:y2, x1:x2])
    if not len(xs):
        return None
    return (x1 + int(xs.min()), y1 + int(ys.min()), x1 + int(xs.max()) + 1, y1 + int(ys.max()) + 1)


def area(box: Box) -> int:
    """Pixels in ``box`` (0 when it is empty)."""
    return max(0, box[2] - box[0]) * max(0, box[3] - box[1])
