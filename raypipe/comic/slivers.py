"""Joining pieces: strips and parts the page model cut off a panel.

Where a white balloon, a straight line in the art (a door frame, a pole) or a seam between two
scenes crosses a panel, the page model may cut the panel there and report a piece beside the
rest of it. Such a piece runs along the whole side of its neighbour and no gutter (a straight
line of plain paper, or of white where a full-bleed page shows no paper at its edge) separates
them; two real panels side by side have a gutter between them. Pieces of a framed panel, as
wide as each other or across a pale column of art, share one straight frame line at each end;
two framed panels' frames are broken by the gutter. The learned panels are joined at
``SHIPPED`` (chosen on synthetic validation pages, ``bench/page_validation.py``; figures:
docs/manga-pages.md).
"""

from __future__ import annotations

import numpy as np

from raypipe.comic.reading import Box

# widest piece joined (share of its neighbour's width), seam lengths looked at, run-on past the
# ends; widest piece joined inside one frame, even over a pale column, the frame running straight
# 5% of the page's width past the seam (rounds panels4b, panels4c)
SHIPPED = (0.5, 4, 0.0, 1.0, True, 0.05)
GAP = 0.02  # most space or overlap between a strip and its panel, as a share of the page's side
SHARED = 0.8  # least share of the longer of the two sides that both boxes run along
TONE = 24  # grey levels from the paper tone (or from white) that still count as paper
FLAT = 0.95  # share of a seam line that must be paper for it to be a gutter
WHITE = 255 - 2 * TONE  # a column this light is a gutter whatever the page's edge shows
INK = 96  # grey at most this dark is a frame line's ink
FRAME_BAND = 0.015  # rows (share of the page's height) round a box's end searched for its frame


def join_slivers(
    boxes: list[Box], grey: np.ndarray, thin: float, blocks: int = 1, reach: float = 0.0,
    framed: float = 0.0, over_gutter: bool = False, frame_span: float = 0.0,
) -> list[Box]:
    """``boxes`` with every strip at most ``thin`` as wide (across the shared side) as the box
    beside it, sharing most of its side and with no gutter between them, joined into it. The
    seam is looked at in ``blocks`` lengths (:func:`_gutter`); with ``reach``, a gutter must
    also show a paper column across each end of the shared side, ``reach`` of the page's height
    either way (a gutter runs on into paper; a pale column of art stops at its panel's frame).
    A piece up to ``framed`` as wide is joined too when its own frame line runs unbroken across
    the seam at both ends (:func:`_framed`: one frame round both pieces; a gutter breaks the
    frames of two panels), and with ``over_gutter`` even where a pale column looks a gutter; with
    ``frame_span``, the frame must run straight ``frame_span`` of the page's width past the seam
    either way (within the pieces: a balloon's curved outline across a gutter is no frame)."""
    boxes = list(boxes)
    paper = paper_tone(grey)
    levels = (thin, blocks, reach, framed, over_gutter, frame_span)
    joined = True
    while joined:
        joined = False
        for i, j in ((i, j) for i in range(len(boxes)) for j in range(len(boxes)) if i != j):
            strip, panel = boxes[i], boxes[j]
            if _sliver_beside(strip, panel, grey, paper, levels) or _sliver_beside(
                _flip(strip), _flip(panel), grey.T, paper, levels
            ):
                boxes[j] = (min(strip[0], panel[0]), min(strip[1], panel[1]),
                            max(strip[2], panel[2]), max(strip[3], panel[3]))
                del boxes[i]
                joined = True
                break
    return boxes


def _sliver_beside(strip: Box, panel: Box, grey: np.ndarray, paper: float, levels: tuple) -> bool:
    """Whether ``strip`` lies left or right of ``panel`` as a sliver of it (x across, y along)."""
    thin, blocks, reach, framed, over_gutter, frame_span = levels
    sx1, sy1, sx2, sy2 = strip
    px1, py1, px2, py2 = panel
    if sx2 - sx1 > max(thin, framed) * (px2 - px1):
        return False
    shared = min(sy2, py2) - max(sy1, py1)
    if shared < SHARED * max(sy2 - sy1, py2 - py1):
        return False
    middle = (sx1 + sx2) / 2
    if px1 <= middle <= px2:
        return False
    lo, hi = sorted((sx2, px1) if middle < px1 else (px2, sx1))
    pad = GAP * grey.shape[1]
    if hi - lo > pad:
        return False
    start, end = max(0, int(lo - pad / 4)), min(grey.shape[1], int(np.ceil(hi + pad / 4)))
    top, bottom, run_on = max(sy1, py1), min(sy2, py2), round(reach * grey.shape[0])

    def seam(first: int, last: int) -> np.ndarray:
        return paper_mask(grey[max(0, first) : last, start:end], paper)

    band, span = round(FRAME_BAND * grey.shape[0]), round(frame_span * grey.shape[1])
    left, right = max(min(sx1, px1), start - span), min(max(sx2, px2), end + span)
    frame_rows = (grey[max(0, min(sy1, py1) - band) : max(sy1, py1) + band, left:right],  # outside first
                  grey[max(0, min(sy2, py2) - band) : max(sy2, py2) + band, left:right][::-1])
    one_frame = sx2 - sx1 <= framed * (px2 - px1) and all(_framed(rows) for rows in frame_rows)
    if sx2 - sx1 > thin * (px2 - px1) and not one_frame:
        return False
    if bottom <= top or (one_frame and over_gutter):
        return bottom > top
    ends = (seam(edge - run_on, edge + run_on) for edge in (top, bottom) if run_on)
    return not (_gutter(seam(top, bottom), blocks) and all(_gutter(m, 1) for m in ends if m.size))


def _framed(rows: np.ndarray) -> bool:
    """Whether ``rows`` (from outside a box's end inward) hold the box's own frame: a dark line
    (``INK``, up to a pixel off level) right inside the innermost row of white paper across them.
    A neighbour's frame beyond a gutter has that paper inside it; a full-bleed end has none."""
    dark, flat = rows <= INK, (rows >= WHITE).mean(axis=1) >= FLAT
    if dark.shape[0] < 3 or dark.shape[1] < 3 or not flat.any():
        return False
    across = (dark[:-2] | dark[1:-1] | dark[2:]).all(axis=1)
    inner = int(np.nonzero(flat)[0].max())
    return bool(across[max(0, inner - 1) : inner + 3].any())


def _gutter(seam: np.ndarray, blocks: int) -> bool:
    """Whether the paper mask ``seam`` (rows along the shared side) holds a gutter: a column of
    paper (``FLAT``) down the whole of it when ``blocks`` is 1; else down all but one of its
    ``blocks`` lengths, each on its own column (a slanted gutter, or one a balloon crosses)."""
    parts = np.array_split(seam, blocks) if len(seam) >= blocks else [seam]
    clear = sum(bool((part.mean(axis=0) >= FLAT).any()) for part in parts if part.size)
    return clear >= max(1, len(parts) - 1) if blocks > 1 else clear == 1


def _flip(box: Box) -> Box:
    return box[1], box[0], box[3], box[2]


def paper_mask(grey: np.ndarray, paper: float) -> np.ndarray:
    """Which pixels of ``grey`` are paper: within ``TONE`` of the ``paper`` tone, or white."""
    grey = grey.astype(np.int16)
    return (np.abs(grey - paper) <= TONE) | (grey >= WHITE)


def paper_tone(grey: np.ndarray) -> float:
    """The page's paper grey: the median of its outermost 1% on every side."""
    h, w = grey.shape
    dy, dx = max(1, h // 100), max(1, w // 100)
    frame = np.concatenate([grey[:dy].ravel(), grey[-dy:].ravel(), grey[:, :dx].ravel(), grey[:, -dx:].ravel()])
    return float(np.median(frame))
