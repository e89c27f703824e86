"""Lettering as blocks of glyphs: small dark shapes on light ground, stacked in columns.

Manga lettering is black glyphs of one size in vertical columns, set on white (inside a balloon,
or straight on the art with a white ground). Each dark connected component of glyph size whose
surroundings are mostly paper is a glyph piece; pieces closer than a fraction of their size join
into a block (a column, and neighbouring columns into a block of text), never across an outline
(a balloon's edge). A block is lettering when its pieces are alike in size, make most of the ink
in its extent (art lines crossing it would not), it is a few glyphs tall (or, inside a balloon,
has a few pieces) and the ground around it is white, not tone or colour. Sizes are fractions of
the image's longer side or of the block's glyph size, so they do not depend on the scan's size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from raypipe.comic.reading import Box


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
    tone: float  # share of the ground around the extent that is neither ink nor paper


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
        up/down, touch (glyphs in a column are closer than columns are) and no outline (ink
        larger than a glyph: a balloon's edge, a panel border) lies between them.
    """
    height, width = rgb.shape[:2]
    longer = max(height, width)
    ink = (rgb.max(axis=2) < dark).astype(np.uint8)
    paper = (rgb.min(axis=2) >= light).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    boxes = stats[1:count, :4]  # x, y, w, h of each ink component (label - 1)
    size = boxes[:, 2:].max(axis=1)
    sums = cv2.integral(ink), cv2.integral(paper)
    on_paper = _paper_share(sums, _grown(boxes, np.ceil(ring * size), width, height)) >= min_light
    glyph_sized = (size >= glyph_range[0] * longer) & (size <= glyph_range[1] * longer)
    pieces = np.flatnonzero(glyph_sized & on_paper)
    outlines = np.isin(labels, np.flatnonzero(size > glyph_range[1] * longer) + 1)
    group_of = _join(boxes[pieces], size[pieces], outlines, gap)
    blocks = []
    for group in np.unique(group_of):
        members = pieces[group_of == group]
        x1, y1 = boxes[members, :2].min(axis=0)
        x2, y2 = (boxes[members, :2] + boxes[members, 2:]).max(axis=0)
        extent = (int(x1), int(y1), int(x2), int(y2))
        region = labels[extent[1] : extent[3], extent[0] : extent[2]]
        own = np.isin(region, members + 1).sum() / max(int((region > 0).sum()), 1)
        glyph = float(np.percentile(size[members], 90))
        around = _grown(np.array([[x1, y1, x2 - x1, y2 - y1]]), np.array([glyph]), width, height)
        ground = 1 - _paper_share(sums, around, of_all=True)[0]
        spread = float(size[members].std() / size[members].mean())
        blocks.append(
            Block(extent, glyph, len(members), spread, 1 - own, (y2 - y1) / glyph, ground)
        )
    return blocks


def _join(
    boxes: np.ndarray, size: np.ndarray, outlines: np.ndarray, gap: tuple[float, float]
) -> np.ndarray:
    """Group number of each piece (``boxes``: x, y, w, h): pieces whose boxes, grown by ``gap``
    of their ``size``, touch without an ``outlines`` pixel between them share a group."""
    joined = np.zeros(outlines.shape, np.uint8)
    grown = zip(
        boxes.tolist(), (gap[0] * size).astype(int).tolist(), (gap[1] * size).astype(int).tolist()
    )
    for (x, y, w, h), gx, gy in grown:
        cv2.rectangle(joined, (x - gx, y - gy), (x + w + gx, y + h + gy), 255, -1)
    joined[cv2.dilate(outlines.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0] = 0
    centres = boxes[:, 1] + boxes[:, 3] // 2, boxes[:, 0] + boxes[:, 2] // 2
    joined[centres] = 255
    return cv2.connectedComponents(joined, connectivity=8)[1][centres]


def lettering_boxes(
    rgb: np.ndarray,
    balloons: Sequence[Box] = (),
    min_pieces: int = 4,
    max_spread: float = 0.5,
    max_foreign: float = 0.2,
    min_glyphs_tall: float = 3.0,
    balloon_pieces: int = 3,
    balloon_foreign: float = 0.3,
    max_tone: float = 0.1,
    pad: tuple[float, float] = (0.0165, 0.0115),
    min_box: tuple[float, float] = (0.06, 0.08),
) -> list[Box]:
    """Boxes of the lettering of an RGB page, each padded by ``pad`` (sideways, up/down) and at
    least ``min_box`` (width, height), all fractions of the page's longer side.

    A block is lettering with ``min_pieces`` pieces of sizes within ``max_spread``, at most
    ``max_foreign`` foreign ink and ``min_glyphs_tall`` glyphs tall; one centred in one of
    ``balloons`` needs only ``balloon_pieces`` pieces and at most ``balloon_foreign``. Either way
    at most ``max_tone`` of the ground around it (one glyph each side) may be neither ink nor paper
    (lettering sits on white; art has grey tones and colour). The defaults of ``pad`` and
    ``min_box`` match how OpenMantra's annotators boxed text (a single glyph or an ellipsis gets a
    box much wider than its ink), fitted on the tuning title, tencho_isoro.
    """
    height, width = rgb.shape[:2]
    longer = max(height, width)
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
        if (free or in_balloon) and block.tone <= max_tone:
            x1, y1, x2, y2 = block.extent
            dx = max(pad[0] * longer, (min_box[0] * longer - (x2 - x1)) / 2)
            dy = max(pad[1] * longer, (min_box[1] * longer - (y2 - y1)) / 2)
            boxes.append(padded(block.extent, dx, dy, width, height))
    return boxes


def _grown(boxes: np.ndarray, by: np.ndarray, width: int, height: int) -> np.ndarray:
    """x1, y1, x2, y2 columns of ``boxes`` (x, y, w, h rows) grown by ``by`` pixels, clipped."""
    x, y, w, h = boxes.T
    by = np.round(by).astype(int)
    return np.stack(
        [
            np.clip(x - by, 0, width),
            np.clip(y - by, 0, height),
            np.clip(x + w + by, 0, width),
            np.clip(y + h + by, 0, height),
        ]
    )


def _paper_share(
    sums: tuple[np.ndarray, np.ndarray], boxes: np.ndarray, of_all: bool = False
) -> np.ndarray:
    """Share of paper in each box (x1, y1, x2, y2 columns), from the ink and paper masks'
    ``cv2.integral`` ``sums``: among the pixels that are not ink, or with ``of_all`` the share
    that is ink or paper."""
    x1, y1, x2, y2 = boxes
    ink, paper = (s[y2, x2] - s[y1, x2] - s[y2, x1] + s[y1, x1] for s in sums)
    area = (boxes[2] - boxes[0]) * (boxes[3] - boxes[1])
    return (ink + paper) / np.maximum(area, 1) if of_all else paper / np.maximum(area - ink, 1)


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
