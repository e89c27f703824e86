"""Panel extraction by classical computer vision, and the reading order of panels.

A page is paper (the gutter colour, read from the page's outer frame) with panels on it. Every
pixel that differs from the paper is ink; ink is joined across gaps narrower than a gutter,
and each outer contour large enough is a panel. This handles white gutters, black gutters,
black panel borders (the border's outer contour encloses the panel), borderless panels (their
art differs from the paper) and slanted panels (their bounding boxes). A page whose frame is
not mostly one colour (full-bleed art) or that yields no panel is one panel.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from raypipe.comic.cuts import (
    area,
    border_lines,
    split_at_gutters,
    split_at_lines,
    split_between_lines,
)
from raypipe.comic.reading import Box, reading_order


@dataclass(frozen=True)
class Panel:
    """The ``index``-th panel of a page in reading order, and its box in page coordinates."""

    index: int
    box: Box


def extract_panels(
    rgb: np.ndarray,
    right_to_left: bool = False,
    min_area: float = 0.03,
    ink_tolerance: int = 40,
    join: float = 0.004,
    min_paper: float = 0.6,
    text_boxes: Sequence[Box] = (),
    gutter_ink: float = 0.02,
    min_line: float = 0.2,
    line_reach: float = 0.03,
    max_gutter: float = 0.04,
    gutter_line: float = 0.06,
) -> list[Panel]:
    """Panels of an RGB page, in reading order (rows top to bottom; ``right_to_left`` for manga).

    Parameters
    ----------
    min_area : smallest panel, as a fraction of the page area (drops page numbers, captions).
    ink_tolerance : how far (max over channels) a pixel's colour must be from the paper's to be ink.
    join : ink gaps narrower than this fraction of the page's shorter side are closed, so that
        a borderless panel's art is one piece; must stay below the gutter width.
    min_paper : fraction of the page frame that must be paper-coloured; below it the page is
        full-bleed art and is one panel.
    text_boxes : balloons (see :func:`raypipe.comic.text.detect_balloons`), erased from the
        ink first: a balloon straddling a gutter would join two panels.
    gutter_ink : a row or column of a found box is gutter when at most this share of it is ink
        and both its ends are paper; boxes are cut along such gutters (panels joined by a
        character or line crossing a gutter).
    min_line : straight dark lines at least this fraction of the page's width (rows) or height
        (columns) are panel borders; a box that such lines cut into several large pieces (panels
        sharing a border line, with no gutter between them) becomes those pieces.
    line_reach : border lines are lengthened at both ends by this fraction of the page's longer
        side, so that a line stopping short of a full-bleed panel's edge, or broken by a balloon
        crossing it, still cuts.
    max_gutter : a strip at most this fraction of the page's longer side wide between two border
        lines that each span most of a box (the frames of two panels facing across a gutter) cuts
        the box in two, even where art or a balloon crosses the gutter.
    """
    height, width = rgb.shape[:2]
    whole_page = [Panel(0, (0, 0, width, height))]
    paper, paper_share = paper_colour(rgb)
    if paper_share < min_paper:
        return whole_page
    ink = ink_mask(rgb, paper, ink_tolerance)
    for x1, y1, x2, y2 in text_boxes:
        ink[y1:y2, x1:x2] = 0
    join_px = max(1, round(join * min(height, width)))
    smallest = min_area * height * width
    boxes = ink_boxes(ink, join_px, smallest)
    rows, columns = border_lines(rgb, min_line, join_px + 1, round(line_reach * max(height, width)))
    boxes = [piece for box in boxes for piece in split_at_lines(rows | columns, box, smallest, ink)]
    widest = round(max_gutter * max(height, width))
    rows, columns = border_lines(rgb, gutter_line, 1, round(line_reach * max(height, width)))
    boxes = [
        piece
        for box in boxes
        for piece in split_between_lines(rows, columns, ink, box, widest, smallest)
    ]
    boxes = [
        piece
        for box in boxes
        for piece in split_at_gutters(ink, box, 2 * join_px, gutter_ink, smallest)
    ]
    boxes = _drop_nested([box for box in boxes if area(box) >= smallest])
    if not boxes:
        return whole_page
    return [Panel(i, box) for i, box in enumerate(reading_order(boxes, right_to_left))]


def paper_colour(rgb: np.ndarray, frame: float = 0.01) -> tuple[np.ndarray, float]:
    """The most common colour of the page's outer frame (``frame`` of each side) and its share.

    Colours are compared after quantising to 32 levels per channel, so paper grain and JPEG
    noise do not split the paper into many colours.
    """
    height, width = rgb.shape[:2]
    band = max(2, round(frame * min(height, width)))
    pixels = np.concatenate(
        [
            rgb[:band].reshape(-1, 3),
            rgb[-band:].reshape(-1, 3),
            rgb[:, :band].reshape(-1, 3),
            rgb[:, -band:].reshape(-1, 3),
        ]
    )
    quantised = (pixels // 32).astype(np.int64)
    codes = (quantised[:, 0] * 8 + quantised[:, 1]) * 8 + quantised[:, 2]
    counts = np.bincount(codes, minlength=512)
    top = int(counts.argmax())
    colour = np.median(pixels[codes == top], axis=0)
    return colour.astype(np.uint8), float(counts[top] / len(codes))


def ink_mask(rgb: np.ndarray, paper: np.ndarray, tolerance: int) -> np.ndarray:
    """uint8 mask (255 = ink) of the pixels farther than ``tolerance`` from the paper colour."""
    distance = np.abs(rgb.astype(np.int16) - paper.astype(np.int16)).max(axis=2)
    return np.where(distance > tolerance, 255, 0).astype(np.uint8)


def ink_boxes(ink: np.ndarray, join_px: int, min_area: float) -> list[Box]:
    """Bounding boxes of the outer contours of ``ink`` (gaps under ``join_px`` closed).

    Boxes smaller than ``min_area`` pixels, or lying mostly inside a larger box (a balloon or
    caption that is not a panel), are dropped.
    """
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (2 * join_px + 1, 2 * join_px + 1))
    closed = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, kernel)
    contours, _ = cv2.findContours(closed, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    boxes = []
    for contour in contours:
        x, y, w, h = cv2.boundingRect(contour)
        if w * h >= min_area:
            boxes.append((x, y, x + w, y + h))
    return _drop_nested(boxes)


def _drop_nested(boxes: list[Box], inside: float = 0.8) -> list[Box]:
    """``boxes`` without those whose area lies mostly (``inside``) within a larger box."""
    by_area = sorted(boxes, key=area, reverse=True)
    kept: list[Box] = []
    for box in by_area:
        if all(_intersection(box, big) < inside * area(box) for big in kept):
            kept.append(box)
    return kept


def _intersection(a: Box, b: Box) -> int:
    return area((max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])))
