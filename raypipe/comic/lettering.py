"""Lettering as blocks of glyphs: small dark shapes on light ground, stacked in columns.

Manga lettering is black glyphs of one size in vertical columns, set on white (inside a balloon,
or straight on the art with a white ground). Each dark connected component of glyph size whose
surroundings are mostly paper is a glyph piece; pieces closer than a fraction of their size join
into a block (a column, and neighbouring columns into a block of text). A block is lettering when
its pieces are alike in size, make most of the ink in its extent (art lines crossing it would not)
and it is a few glyphs tall, or, inside a balloon, when it has a few pieces. Sizes are in units of
the image's longer side or of the block's glyph size, so they do not depend on the scan's size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

Box = tuple[int, int, int, int]  # x1, y1, x2, y2 (x2, y2 exclusive), image pixels


@dataclass(frozen=True)
class Block:
    """A group of glyph pieces: its ink extent, glyph size (pixels) and the shape figures that
    decide whether it is lettering."""

    extent: Box
    glyph: float
    pieces: int
    size_spread: float  # std / mean of the pieces' sizes
    foreign_ink: float  # share of the extent's ink that is not the block's pieces
    height_in_glyphs: float


def glyph_blocks(
    rgb: np.ndarray,
    dark: int = 110,
    light: int = 200,
    glyph_range: tuple[float, float] = (0.004, 0.045),
    ring: float = 0.3,
    min_light: float = 0.75,
    gap: tuple[float, float] = (0.35, 0.5),
) -> list[Block]:
    """The blocks of glyph pieces of an RGB image.

    Parameters
    ----------
    dark : a pixel is ink when no channel reaches this value; ``light``: paper when all do.
    glyph_range : smallest and largest glyph piece (the longer side of its box), as fractions of
        the image's longer side.
    ring, min_light : a piece's box grown by ``ring`` of its size must be at least ``min_light``
        paper, ink aside (lettering sits on white; hatching and tone do not).
    gap : pieces join when their boxes, each grown by these fractions of its size sideways and
        up/down, touch (glyphs in a column are closer than columns are).
    """
    height, width = rgb.shape[:2]
    ink = (rgb.max(axis=2) < dark).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    x, y, w, h = (stats[1:count, i] for i in range(4))
    size = np.maximum(w, h)
    longer = max(height, width)
    candidate = (size >= glyph_range[0] * longer) & (size <= glyph_range[1] * longer)
    paper = (rgb.min(axis=2) >= light).astype(np.uint8)
    grown = _grow(x, y, w, h, np.ceil(ring * size).astype(int), np.ceil(ring * size).astype(int), width, height)
    area = (grown[2] - grown[0]) * (grown[3] - grown[1])
    non_ink = area - _box_sums(cv2.integral(ink), grown)
    pieces = np.flatnonzero(candidate & (_box_sums(cv2.integral(paper), grown) >= min_light * non_ink))
    joined = np.zeros((height, width), np.uint8)
    gx, gy = (gap[0] * size).astype(int), (gap[1] * size).astype(int)
    for i in pieces:
        cv2.rectangle(joined, (int(x[i] - gx[i]), int(y[i] - gy[i])), (int(x[i] + w[i] + gx[i]), int(y[i] + h[i] + gy[i])), 255, -1)
    _, groups = cv2.connectedComponents(joined, connectivity=8)
    group_of = groups[y[pieces] + h[pieces] // 2, x[pieces] + w[pieces] // 2]
    blocks = []
    for group in np.unique(group_of):
        members = pieces[group_of == group]
        x1, y1 = int(x[members].min()), int(y[members].min())
        x2, y2 = int((x[members] + w[members]).max()), int((y[members] + h[members]).max())
        region = labels[y1:y2, x1:x2]
        ink_pixels = max(int((region > 0).sum()), 1)
        own = int(np.isin(region, members + 1).sum())
        glyph = float(np.percentile(size[members], 75))
        spread = float(size[members].std() / size[members].mean())
        blocks.append(Block((x1, y1, x2, y2), glyph, len(members), spread, 1 - own / ink_pixels, (y2 - y1) / glyph))
    return blocks


def lettering_boxes(
    rgb: np.ndarray,
    balloons: Sequence[Box] = (),
    min_pieces: int = 4,
    max_spread: float = 0.5,
    max_foreign: float = 0.2,
    min_glyphs_tall: float = 3.0,
    balloon_pieces: int = 3,
    balloon_foreign: float = 0.3,
    pad: tuple[float, float] = (1.2, 0.85),
) -> list[Box]:
    """Boxes of the lettering of an RGB page, each padded by ``pad`` glyphs (sideways, up/down).

    A block is lettering with ``min_pieces`` pieces of sizes within ``max_spread``, at most
    ``max_foreign`` foreign ink and ``min_glyphs_tall`` glyphs tall; one centred in one of
    ``balloons`` needs only ``balloon_pieces`` pieces and at most ``balloon_foreign``. The default
    ``pad`` matches how OpenMantra's annotators boxed text (measured on the tuning title).
    """
    height, width = rgb.shape[:2]
    boxes = []
    for block in glyph_blocks(rgb):
        free = (
            block.pieces >= min_pieces
            and block.size_spread <= max_spread
            and block.foreign_ink <= max_foreign
            and block.height_in_glyphs >= min_glyphs_tall
        )
        in_balloon = (
            block.pieces >= balloon_pieces
            and block.foreign_ink <= balloon_foreign
            and _centred_in(block.extent, balloons)
        )
        if free or in_balloon:
            boxes.append(padded(block.extent, pad[0] * block.glyph, pad[1] * block.glyph, width, height))
    return boxes


def _grow(x, y, w, h, dx, dy, width: int, height: int) -> tuple[np.ndarray, ...]:
    """Boxes (x, y, w, h arrays) grown by dx, dy and clipped to the image: x1, y1, x2, y2."""
    return (
        np.clip(x - dx, 0, width),
        np.clip(y - dy, 0, height),
        np.clip(x + w + dx, 0, width),
        np.clip(y + h + dy, 0, height),
    )


def _box_sums(integral: np.ndarray, boxes: tuple[np.ndarray, ...]) -> np.ndarray:
    """Sum of the image under each box, from its ``cv2.integral``."""
    x1, y1, x2, y2 = boxes
    return integral[y2, x2] - integral[y1, x2] - integral[y2, x1] + integral[y1, x1]


def _centred_in(box: Box, regions: Sequence[Box]) -> bool:
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return any(x1 <= cx <= x2 and y1 <= cy <= y2 for x1, y1, x2, y2 in regions)


def padded(box: Box, dx: float, dy: float, width: int, height: int) -> Box:
    """``box`` grown by ``dx`` sideways and ``dy`` up and down, clipped to the image."""
    return (
        max(round(box[0] - dx), 0),
        max(round(box[1] - dy), 0),
        min(round(box[2] + dx), width),
        min(round(box[3] + dy), height),
    )
