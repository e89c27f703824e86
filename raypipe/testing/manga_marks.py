"""What real manga pages draw over and across their panels, for synthetic pages.

Balloons (round, boxed or spiky, with tails) of vertical lettering, half of them laid across a
panel's border into the gutter; figures breaking out of a panel across its frame and the
gutter; sound effects in heavy strokes; speed lines; screentone (a dot screen over line art).
None of these is a panel: they change the picture, never the truth (the panel label map), so a
model trained on them learns that what crosses a gutter does not join two panels.
"""

from __future__ import annotations

import cv2
import numpy as np

from raypipe.comic.reading import Box


def screentone(crop: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``crop`` as printed manga: its ink lines, and its mid and dark tones as a dot screen."""
    h, w = crop.shape
    lines = cv2.adaptiveThreshold(crop, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, 15, 8)
    period = float(rng.uniform(3.0, 6.0))
    ys, xs = np.indices((h, w), dtype=np.float32)
    screen = (np.cos(2 * np.pi * xs / period) + np.cos(2 * np.pi * ys / period)) / 4 + 0.5
    darkness = 1 - cv2.GaussianBlur(crop, (0, 0), 3).astype(np.float32) / 255
    dots = darkness * rng.uniform(0.8, 1.3) > screen + 0.15
    return np.where(dots | (lines == 0), int(rng.integers(0, 40)), 255).astype(np.uint8)


def speed_lines(grey: np.ndarray, inside: np.ndarray, rng: np.random.Generator) -> None:
    """Thin lines over the pixels of ``inside``: parallel, or radiating from a focus."""
    h, w = grey.shape
    ys, xs = np.nonzero(inside)
    if not len(ys):
        return
    layer = np.full((h, w), 255, np.uint8)
    radial = rng.random() < 0.5
    focus = (int(rng.integers(xs.min(), xs.max() + 1)), int(rng.integers(ys.min(), ys.max() + 1)))
    angle = rng.uniform(0, np.pi)
    for _ in range(int(rng.integers(30, 90))):
        t = rng.uniform(0, 2 * np.pi) if radial else angle
        start = focus if not radial else (focus[0] + int(40 * np.cos(t)), focus[1] + int(40 * np.sin(t)))
        if not radial:
            start = (int(rng.integers(xs.min(), xs.max() + 1)), int(rng.integers(ys.min(), ys.max() + 1)))
        end = (int(start[0] + 2 * w * np.cos(t)), int(start[1] + 2 * h * np.sin(t)))
        cv2.line(layer, start, end, 0, 1)
    mask = inside & (layer == 0)
    grey[mask] = np.minimum(grey[mask], 30)


def draw_balloon(grey: np.ndarray, panels: list[Box], rng: np.random.Generator) -> Box:
    """A balloon of vertical lettering (or bare lettering), across a panel's border half the
    time; returns the lettering's box."""
    height, width = grey.shape
    glyph = int(rng.uniform(0.02, 0.034) * width)
    columns, rows = int(rng.integers(1, 6)), int(rng.integers(2, 9))
    w, h = columns * int(glyph * 1.3), rows * glyph
    cx, cy = _balloon_centre(panels, width, height, rng)
    x = int(np.clip(cx - w // 2, 4, width - w - 4))
    y = int(np.clip(cy - h // 2, 4, height - h - 4))
    if rng.random() < 0.85:
        _balloon_shape(grey, (x + w // 2, y + h // 2), (int(w * 0.72) + glyph, int(h * 0.68) + glyph), rng)
    longest = _glyph_columns(grey, (x, y), glyph, columns, rows, rng)
    return (x, y, x + w, y + longest * glyph)


def draw_tall_balloon(grey: np.ndarray, panel: Box, rng: np.random.Generator) -> Box:
    """A tall white balloon of vertical lettering hanging from ``panel``'s top frame (breaking
    it) down most of its height, as real pages often set one: a white band across the panel's
    art that is not a gutter. Returns the lettering's box."""
    x1, y1, x2, y2 = panel
    glyph = max(8, int(rng.uniform(0.02, 0.03) * grey.shape[1]))
    columns = int(rng.integers(1, 4))
    half = columns * int(glyph * 1.3) // 2 + glyph
    cx = int(rng.uniform(x1 + half, max(x1 + half + 1, x2 - half)))
    top, bottom = y1 - int(rng.uniform(0, 0.04) * grey.shape[0]), y1 + int(rng.uniform(0.6, 0.95) * (y2 - y1))
    rows = max(2, (bottom - max(top, 0)) // glyph - 2)
    _balloon_shape(grey, (cx, (top + bottom) // 2), (half, (bottom - top) // 2), rng)
    corner = (cx - columns * int(glyph * 1.3) // 2, max(top, 0) + glyph)
    longest = _glyph_columns(grey, corner, glyph, columns, rows, rng)
    return corner[0], corner[1], corner[0] + columns * int(glyph * 1.3), corner[1] + longest * glyph


def _balloon_centre(panels: list[Box], width: int, height: int, rng) -> tuple[int, int]:
    if not panels:
        return int(rng.integers(0, width)), int(rng.integers(0, height))
    x1, y1, x2, y2 = panels[int(rng.integers(len(panels)))]
    cx, cy = int(rng.uniform(x1, x2)), int(rng.uniform(y1, y2))
    if rng.random() < 0.5:  # on the panel's frame, reaching into the gutter
        side = int(rng.integers(4))
        cx = (x1, x2, cx, cx)[side]
        cy = (cy, cy, y1, y2)[side]
    return cx, cy


def _balloon_shape(grey: np.ndarray, centre: tuple[int, int], axes: tuple[int, int], rng) -> None:
    outline = int(rng.integers(1, 4))
    kind = rng.random()
    if kind < 0.6:
        points = cv2.ellipse2Poly(centre, axes, 0, 0, 360, 10)
    elif kind < 0.8:  # a caption box
        (cx, cy), (ax, ay) = centre, axes
        points = np.array([[cx - ax, cy - ay], [cx + ax, cy - ay], [cx + ax, cy + ay], [cx - ax, cy + ay]])
    else:  # a shout: spikes round the rim
        t = np.linspace(0, 2 * np.pi, int(rng.integers(14, 30)) * 2, endpoint=False)
        r = np.where(np.arange(len(t)) % 2, 1.0, rng.uniform(1.15, 1.35))
        points = np.stack([centre[0] + axes[0] * r * np.cos(t), centre[1] + axes[1] * r * np.sin(t)], 1)
    points = np.round(points).astype(np.int32)
    if rng.random() < 0.6:  # a tail
        tip = np.array(centre) + rng.uniform(-1.6, 1.6, 2) * np.array(axes)
        base = [np.array(centre) + rng.uniform(-0.3, 0.3, 2) * np.array(axes) for _ in range(2)]
        tail = np.round(np.array([base[0], tip, base[1]])).astype(np.int32)
        cv2.fillPoly(grey, [tail], 255)
        cv2.polylines(grey, [tail], False, 0, outline)
    cv2.fillPoly(grey, [points], 255)
    cv2.polylines(grey, [points], True, 0, outline)


def _glyph_columns(grey: np.ndarray, corner: tuple[int, int], glyph: int, columns: int, rows: int, rng) -> int:
    """Columns of stroke glyphs (right to left) from ``corner``; returns the longest column's length."""
    x, y = corner
    ink, longest = int(rng.integers(0, 50)), 1
    weight = max(1, glyph // 9)
    for c in range(columns):
        gx = x + (columns - c - 1) * int(glyph * 1.3)
        length = rows if c == 0 else int(rng.integers(1, rows + 1))
        longest = max(longest, length)
        for r in range(length):
            gy = y + r * glyph
            for _ in range(int(rng.integers(3, 8))):
                p = rng.integers(1, glyph - 2, 2)
                q = p.copy()
                q[int(rng.integers(2))] = rng.integers(1, glyph - 2)  # mostly level or upright strokes
                cv2.line(grey, (gx + int(p[0]), gy + int(p[1])), (gx + int(q[0]), gy + int(q[1])), ink, weight)
    return longest


def draw_breakout(grey: np.ndarray, panels: list[Box], art: list[np.ndarray], rng) -> None:
    """A figure (line art in a rounded outline) laid across a panel's frame and the gutter."""
    if not panels:
        return
    height, width = grey.shape
    x1, y1, x2, y2 = panels[int(rng.integers(len(panels)))]
    side = int(rng.integers(4))
    cx = int((x1, x2, rng.uniform(x1, x2), rng.uniform(x1, x2))[side])
    cy = int((rng.uniform(y1, y2), rng.uniform(y1, y2), y1, y2)[side])
    axes = (int(rng.uniform(0.05, 0.14) * width), int(rng.uniform(0.05, 0.14) * height))
    mask = np.zeros((height, width), np.uint8)
    cv2.ellipse(mask, (cx, cy), axes, float(rng.uniform(0, 180)), 0, 360, 255, -1)
    bx1, by1 = max(0, cx - axes[0] - axes[1]), max(0, cy - axes[0] - axes[1])
    bx2, by2 = min(width, cx + axes[0] + axes[1]), min(height, cy + axes[0] + axes[1])
    if bx2 - bx1 < 16 or by2 - by1 < 16:
        return
    image = art[int(rng.integers(len(art)))]
    crop = cv2.resize(image, (bx2 - bx1, by2 - by1))
    lines = cv2.adaptiveThreshold(crop, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, 15, 6)
    region = mask[by1:by2, bx1:bx2] > 0
    grey[by1:by2, bx1:bx2][region] = lines[region]
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    cv2.drawContours(grey, contours, -1, 0, int(rng.integers(1, 4)))


def draw_sound_effect(grey: np.ndarray, rng: np.random.Generator) -> None:
    """Two to five heavy strokes with white rims anywhere on the page (a drawn sound)."""
    height, width = grey.shape
    x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
    size = int(rng.uniform(0.05, 0.15) * width)
    weight = max(3, size // 8)
    for _ in range(int(rng.integers(2, 6))):
        p = (x + int(rng.integers(-size, size)), y + int(rng.integers(-size, size)))
        q = (p[0] + int(rng.integers(-size, size)), p[1] + int(rng.integers(-size, size)))
        cv2.line(grey, p, q, 255, weight + 6)
        cv2.line(grey, p, q, int(rng.integers(0, 30)), weight)
