"""Synthetic black-and-white manga pages with irregular layouts, for training and testing the page model.

Layouts the hand-written panel rules miss: borderless panels whose art nearly touches, panels
laid over others (insets), full-bleed panels running off the page, slanted gutters, and plain
grids. Panel art is drawn from given art images (styled as grey shading, ink line art,
screentone or hard black and white, sometimes with speed lines); over the panels go figures
breaking out across frames, sound effects, and balloons of stroke-glyph lettering, many across a
panel's border (:mod:`raypipe.testing.manga_marks`). Everything is recorded as drawn: each
panel's full box, the page's panel label map (which panel each pixel shows; marks over the
panels do not change it) and the lettering boxes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from raypipe.comic.reading import Box
from raypipe.testing.manga_marks import (
    draw_balloon,
    draw_breakout,
    draw_sound_effect,
    draw_tall_balloon,
    screentone,
    speed_lines,
)

LAYOUTS = ("grid", "borderless", "overlap", "full-bleed", "slant")
DARK_PAGES = 0.08  # share of pages printed on black (flashbacks): black margins and gutters


@dataclass
class MangaPage:
    """A grey page, its panels' full boxes (drawing order), the label map of the visible panel
    at each pixel (0 = paper, k = the k-th panel) and the lettering boxes."""

    grey: np.ndarray
    layout: str
    panels: list[Box] = field(default_factory=list)
    labels: np.ndarray | None = None
    lettering: list[Box] = field(default_factory=list)


def compose_page(
    art: list[np.ndarray], rng: np.random.Generator, layout: str | None = None,
    size: tuple[int, int] = (1170, 826), straight_art: float = 0.0, fragment_art: float = 0.0,
) -> MangaPage:
    """A page of ``layout`` (random when None) whose panels show crops of the grey ``art``;
    ``straight_art`` of the panels get long straight lines across their art (doors, poles),
    ``fragment_art`` of them what cuts a real panel into false pieces (:func:`_fragment_art`)."""
    layout = layout or LAYOUTS[int(rng.integers(len(LAYOUTS)))]
    height, width = size
    dark = rng.random() < DARK_PAGES
    paper = int(rng.integers(0, 40)) if dark else int(rng.integers(235, 256))
    page = MangaPage(np.full(size, paper, np.uint8), layout)
    page.labels = np.zeros(size, np.int32)
    for polygon in _layout_polygons(layout, width, height, rng):
        _draw_panel(page, polygon, art, rng, _has_border(layout, rng) and not dark, (straight_art, fragment_art))
    if rng.random() < 0.5:
        _page_number(page.grey, rng, 255 - paper)
    for _ in range(int(rng.integers(0, 3))):
        draw_breakout(page.grey, page.panels, art, rng)
    for _ in range(int(rng.integers(0, 3))):
        draw_sound_effect(page.grey, rng)
    for _ in range(int(rng.integers(2, 9))):
        page.lettering.append(draw_balloon(page.grey, page.panels, rng))
    return page


def _has_border(layout: str, rng: np.random.Generator) -> bool:
    return rng.random() < {"borderless": 0.15, "overlap": 0.6}.get(layout, 0.8)


def _layout_polygons(layout: str, width: int, height: int, rng) -> list[np.ndarray]:
    bleed = layout == "full-bleed" and rng.random() < 0.5
    margins = (0, 0, 0, 0) if bleed else _margins(width, height, rng)
    gutter = int(rng.uniform(0.003, 0.012) * width) if layout == "borderless" else int(
        rng.uniform(0.01, 0.035) * width
    )
    left, top, right, bottom = margins
    rects = _split((left, top, width - right, height - bottom), gutter, rng, depth=0)
    if layout == "full-bleed":
        rects = [_bleed(r, width, height, margins, rng) for r in rects]
    polygons = [_quad(r) for r in rects]
    if layout == "slant":
        polygons = [_tilt(p, rng, gutter) for p in polygons]
    if layout == "overlap":
        for _ in range(int(rng.integers(1, 3))):
            w, h = rng.uniform(0.25, 0.5) * width, rng.uniform(0.15, 0.3) * height
            x, y = rng.uniform(0, width - w), rng.uniform(0, height - h)
            polygons.append(_quad((x, y, x + w, y + h)))
    return polygons


def _margins(width: int, height: int, rng) -> tuple[int, int, int, int]:
    """Paper round the panels (left, top, right, bottom) as printed pages have it: sides
    apart, the foot often deeper than the head."""
    side = rng.uniform(0.03, 0.08, 2) * width
    head, foot = rng.uniform(0.02, 0.07) * height, rng.uniform(0.03, 0.10) * height
    return int(side[0]), int(head), int(side[1]), int(foot)


def _page_number(grey: np.ndarray, rng, ink: int) -> None:
    """A page number in small type at the foot of the page, in the middle or a corner."""
    height, width = grey.shape
    x = int(rng.choice([0.06, 0.48, 0.88]) * width)
    cv2.putText(grey, str(int(rng.integers(1, 200))), (x, int(height * rng.uniform(0.975, 0.99))),
                cv2.FONT_HERSHEY_SIMPLEX, rng.uniform(0.5, 0.8), ink, 1, cv2.LINE_AA)


def _split(rect, gutter: int, rng, depth: int) -> list[tuple[float, float, float, float]]:
    """Recursive cuts of ``rect`` into panels (rows first, then columns), ``gutter`` apart."""
    x1, y1, x2, y2 = rect
    w, h = x2 - x1, y2 - y1
    if depth >= 3 or (depth > 0 and rng.random() < 0.25 + 0.2 * depth) or min(w, h) < 160:
        return [rect]
    vertical = w > 1.3 * h or (h < 1.3 * w and rng.random() < 0.4)
    if depth == 0:
        vertical = False
    length = w if vertical else h
    n = int(rng.integers(2, 4 if depth else 5))
    cuts = np.cumsum(rng.uniform(0.6, 1.4, n))
    cuts = cuts / cuts[-1] * length
    pieces, start = [], 0.0
    for end in cuts:
        a, b = start + (gutter / 2 if start else 0), end - (gutter / 2 if end < length else 0)
        piece = (x1 + a, y1, x1 + b, y2) if vertical else (x1, y1 + a, x2, y1 + b)
        pieces.extend(_split(piece, gutter, rng, depth + 1))
        start = end
    return pieces


def _bleed(rect, width: int, height: int, margins: tuple[int, int, int, int], rng):
    """``rect`` stretched to the page edge on the sides it borders (sometimes)."""
    x1, y1, x2, y2 = rect
    left, top, right, bottom = (max(m, 1) + 2 for m in margins)
    stretch = rng.random() < 0.6
    return (
        0 if stretch and x1 <= left else x1,
        0 if stretch and y1 <= top else y1,
        width if stretch and x2 >= width - right else x2,
        height if stretch and y2 >= height - bottom else y2,
    )


def _quad(rect) -> np.ndarray:
    x1, y1, x2, y2 = rect
    return np.array([[x1, y1], [x2, y1], [x2, y2], [x1, y2]], np.float64)


def _tilt(polygon: np.ndarray, rng, gutter: int) -> np.ndarray:
    """``polygon`` with its corners moved by up to a gutter (slanted gutters, no overlap)."""
    return polygon + rng.uniform(-0.45, 0.45, polygon.shape) * gutter


def _draw_panel(page: MangaPage, polygon: np.ndarray, art, rng, border: bool, shares: tuple[float, float]) -> None:
    straight_art, fragment_art = shares
    height, width = page.grey.shape
    corners = np.round(polygon).astype(np.int32)
    inside = np.zeros((height, width), np.uint8)
    cv2.fillPoly(inside, [corners], 255)
    thickness = int(rng.integers(1, 6)) if border else 0
    x1, y1 = np.clip(corners.min(axis=0) - thickness // 2, 0, [width, height])
    x2, y2 = np.clip(corners.max(axis=0) + thickness // 2 + 1, 0, [width, height])
    if x2 - x1 < 8 or y2 - y1 < 8:
        return
    filled = _panel_art(art[int(rng.integers(len(art)))], (y2 - y1, x2 - x1), rng, border)
    fragment = "none" if not fragment_art or rng.random() >= fragment_art else (
        "seam" if rng.random() < 0.6 else "balloon")
    if fragment == "seam":
        filled = _two_scenes(filled, art, rng, border)
    region = inside[y1:y2, x1:x2] > 0
    page.grey[y1:y2, x1:x2][region] = filled[region]
    if rng.random() < 0.15:
        speed_lines(page.grey, inside > 0, rng)
    if straight_art and rng.random() < straight_art:
        _straight_lines(page.grey, inside > 0, (x1, y1, x2, y2), rng)
    if page.layout == "overlap" and len(page.panels) and rng.random() < 0.6:
        cv2.polylines(page.grey, [corners], True, 255, int(rng.integers(6, 14)))
    if border:
        cv2.polylines(page.grey, [corners], True, int(rng.integers(0, 40)), thickness)
    if fragment == "balloon":
        page.lettering.append(draw_tall_balloon(page.grey, (int(x1), int(y1), int(x2), int(y2)), rng))
    page.panels.append((int(x1), int(y1), int(x2), int(y2)))
    page.labels[inside > 0] = len(page.panels)


def _two_scenes(filled: np.ndarray, art, rng, border: bool) -> np.ndarray:
    """``filled`` with a straight 15-50% of it (a side, upright seam seven times in ten) showing
    other art in another style, sometimes with a dark line on the seam: a wall's edge, a door,
    a window, where a real panel's art changes along a straight line that is not a panel edge."""
    h, w = filled.shape
    other = _panel_art(art[int(rng.integers(len(art)))], (h, w), rng, border)
    upright = rng.random() < 0.7
    at = int(rng.uniform(0.15, 0.5) * (w if upright else h))
    at = at if rng.random() < 0.5 else (w if upright else h) - at
    out = filled.copy()
    if upright:
        out[:, at:] = other[:, at:]
    else:
        out[at:] = other[at:]
    if rng.random() < 0.5:
        ends = ((at, 0), (at, h)) if upright else ((0, at), (w, at))
        cv2.line(out, *ends, int(rng.integers(0, 60)), int(rng.integers(1, 5)))
    return out


def _straight_lines(grey: np.ndarray, inside: np.ndarray, box, rng) -> None:
    """One to three long straight dark lines across the art (a door frame, a pole, a wall's
    edge), upright or level, over most of the panel: lines that are not panel edges."""
    x1, y1, x2, y2 = box
    layer = np.full(grey.shape, 255, np.uint8)
    for _ in range(int(rng.integers(1, 4))):
        if rng.random() < 0.7:  # upright
            x = int(rng.uniform(x1 + 0.1 * (x2 - x1), x2 - 0.1 * (x2 - x1)))
            ends = sorted(rng.uniform(y1, y2, 2)) if rng.random() < 0.5 else (y1, y2)
            cv2.line(layer, (x, int(ends[0])), (x, int(ends[1])), 0, int(rng.integers(1, 5)))
        else:
            y = int(rng.uniform(y1 + 0.1 * (y2 - y1), y2 - 0.1 * (y2 - y1)))
            cv2.line(layer, (x1, y), (x2, y), 0, int(rng.integers(1, 5)))
    mask = inside & (layer == 0)
    grey[mask] = int(rng.integers(0, 60))


def _panel_art(image: np.ndarray, shape: tuple[int, int], rng, border: bool) -> np.ndarray:
    """``image`` cropped to cover ``shape`` and styled as screentone, ink lines, shading or
    black and white (never as bare lines on paper without a border: such a panel has no edge)."""
    h, w = shape
    ih, iw = image.shape
    scale = max(h / ih, w / iw) * rng.uniform(1.0, 1.6)
    big = cv2.resize(image, (max(w, round(iw * scale)), max(h, round(ih * scale))))
    y, x = int(rng.integers(0, big.shape[0] - h + 1)), int(rng.integers(0, big.shape[1] - w + 1))
    crop = big[y : y + h, x : x + w]
    style = rng.random()
    if not border and 0.35 <= style < 0.65:
        style = rng.uniform(0.65, 1.0)
    if style < 0.35:
        return screentone(crop, rng)
    if style < 0.65:  # ink line art: mostly paper, black strokes
        return cv2.adaptiveThreshold(crop, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, 15, 6)
    if style < 0.85:
        return np.clip(crop.astype(np.float32) * rng.uniform(0.7, 1.3) + rng.uniform(-30, 30), 0, 255).astype(np.uint8)
    return np.where(crop < rng.uniform(60, 140), 20, 250).astype(np.uint8)
