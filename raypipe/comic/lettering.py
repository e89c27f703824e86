"""Lettering as blocks of glyphs: small dark shapes on light ground, stacked in columns.

Manga lettering is black glyphs of one size in vertical columns, set on white (inside a balloon,
or straight on the art with a white ground). Each dark connected component of glyph size whose
surroundings are mostly paper is a glyph piece, unless it is part of a line: a thin or grey
outline breaks into glyph-sized bits at the ink threshold, so lines are traced with everything
that is not paper. Pieces closer than a fraction of their size (at least the page's typical
glyph size, so an ellipsis's dots join) join into a block (a column, and neighbouring columns
into a block of text), never across an outline (a balloon's edge). A block is lettering when its
pieces are alike in size, make most of the ink in its extent (art lines crossing it would not),
it is a few glyphs tall (or, inside a balloon, has a few pieces) and the ground around it is
white, not tone or colour; a balloon holding one lone block near its centre holds a short line.
Sizes are fractions of the image's longer side or of the block's glyph size, so they do not
depend on the scan's size.
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
    faint: int = 215,
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
        larger than a glyph: a balloon's edge, a panel border) lies between them. A piece smaller
        than the median piece joins as if it had the median size.
    faint : outlines are the shapes longer than a glyph of the pixels with no channel reaching
        this value (all but paper); an ink piece on one is a bit of line, not a glyph.
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
    outlines = _lines(rgb.max(axis=2) < faint, glyph_range[1] * longer)
    on_line = np.zeros(count, bool)
    on_line[np.unique(labels[outlines])] = True
    pieces = np.flatnonzero(glyph_sized & on_paper & ~on_line[1:])
    reach = np.maximum(size[pieces], np.median(size[pieces])) if len(pieces) else size[pieces]
    group_of = _join(boxes[pieces], reach, outlines, gap)
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


def _lines(mask: np.ndarray, longest_glyph: float) -> np.ndarray:
    """The pixels of ``mask`` in connected shapes longer than ``longest_glyph``."""
    _, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    long = stats[:, 2:4].max(axis=1) > longest_glyph
    long[0] = False
    return long[labels]


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
    blocks: Sequence[Block] | None = None,
    min_pieces: int = 4,
    max_spread: float = 0.5,
    max_foreign: float = 0.2,
    min_glyphs_tall: float = 3.0,
    balloon_pieces: int = 3,
    balloon_foreign: float = 0.3,
    balloon_glyphs: float = 16.0,
    max_tone: float = 0.1,
    pad: tuple[float, float] = (0.0165, 0.0115),
    min_box: tuple[float, float] = (0.06, 0.08),
    inscribed: tuple[float, float] = (0.70, 0.74),
    centred: float = 0.2,
) -> list[Box]:
    """Boxes of the lettering of an RGB page, from its glyph ``blocks`` (found when None).

    A block is lettering with ``min_pieces`` pieces of sizes within ``max_spread``, at most
    ``max_foreign`` foreign ink and ``min_glyphs_tall`` glyphs tall; one centred in one of
    ``balloons`` (at most ``balloon_glyphs`` of its glyphs across) needs only ``balloon_pieces``
    pieces and at most ``balloon_foreign``. Either way at most ``max_tone`` of the ground around
    it (one glyph each side) may be neither ink nor paper (lettering sits on white; art has grey
    tones and colour). Its box is padded by ``pad`` (sideways, up/down) and at least ``min_box``
    (width, height), fractions of the page's longer side.

    A balloon with no such block but a single block near its centre (within ``centred`` of its
    size) holds a short line (a word, an ellipsis, an exclamation): its lettering box is the
    balloon's central ``inscribed`` share (width, height): the rectangle lettering is set in.
    The defaults of ``pad``, ``min_box`` and ``inscribed`` match how OpenMantra's annotators boxed
    text, fitted on the tuning title, tencho_isoro.
    """
    height, width = rgb.shape[:2]
    longer = max(height, width)
    blocks = glyph_blocks(rgb) if blocks is None else blocks
    extents = []
    for block in blocks:
        free = (
            block.pieces >= min_pieces
            and block.size_spread <= max_spread
            and block.foreign_ink <= max_foreign
            and block.height_in_glyphs >= min_glyphs_tall
        )
        home = _home(block.extent, balloons)
        in_balloon = (
            block.pieces >= balloon_pieces
            and block.foreign_ink <= balloon_foreign
            and home is not None
            and max(home[2] - home[0], home[3] - home[1]) <= balloon_glyphs * block.glyph
        )
        if (free or in_balloon) and block.tone <= max_tone:
            extents.append(block.extent)
    boxes = []
    for x1, y1, x2, y2 in extents:
        dx = max(pad[0] * longer, (min_box[0] * longer - (x2 - x1)) / 2)
        dy = max(pad[1] * longer, (min_box[1] * longer - (y2 - y1)) / 2)
        boxes.append(padded((x1, y1, x2, y2), dx, dy, width, height))
    for balloon in balloons:
        if any(_centred_in(extent, [balloon]) for extent in extents):
            continue
        inside = [block for block in blocks if _centred_in(block.extent, [balloon])]
        if (
            len(inside) == 1
            and inside[0].foreign_ink <= balloon_foreign
            and inside[0].tone <= max_tone
            and _near_centre(inside[0].extent, balloon, centred)
        ):
            boxes.append(_scaled(balloon, *inscribed))
    return boxes


def _home(box: Box, balloons: Sequence[Box]) -> Box | None:
    """The smallest of ``balloons`` ``box`` is centred in, or None."""
    homes = [b for b in balloons if _centred_in(box, [b])]
    return min(homes, key=lambda b: (b[2] - b[0]) * (b[3] - b[1]), default=None)


def _near_centre(box: Box, region: Box, tolerance: float) -> bool:
    """Whether ``box``'s centre is within ``tolerance`` of ``region``'s size of its centre."""
    dx = abs(box[0] + box[2] - region[0] - region[2]) / 2
    dy = abs(box[1] + box[3] - region[1] - region[3]) / 2
    return dx <= tolerance * (region[2] - region[0]) and dy <= tolerance * (region[3] - region[1])


def _scaled(box: Box, share_x: float, share_y: float) -> Box:
    """The central ``share_x`` x ``share_y`` of ``box``."""
    dx = (1 - share_x) * (box[2] - box[0]) / 2
    dy = (1 - share_y) * (box[3] - box[1]) / 2
    return (round(box[0] + dx), round(box[1] + dy), round(box[2] - dx), round(box[3] - dy))


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
