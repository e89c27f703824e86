"""Manga-like backgrounds with no face in them, for the drawn-face detector's training patches:
paper, toned regions, screentone, hatching, speed lines, hair locks, balloons with glyphs, hard
negatives (:mod:`raypipe.testing.drawn_negatives`), panel borders, parts of scenes and enlarged
corners of face crops, pasted with the same edges as the faces (:func:`paste`)."""

from __future__ import annotations

import cv2
import numpy as np

from raypipe.testing.drawn_negatives import hard_negative
from raypipe.testing.drawn_styles import print_style, screentone, to_grey

#: At most this many hard negatives (:mod:`raypipe.testing.drawn_negatives`) per background.
HARD_NEGATIVES = 3


def background(
    size: int, rng: np.random.Generator, patches: list[np.ndarray], scenes: list[np.ndarray] = ()
) -> np.ndarray:
    """A float32 ``size x size`` manga-like background with no face in it; ``scenes``: grey
    pictures without people, of which a random part may fill the background."""
    canvas = np.full(
        (size, size),
        rng.choice([255.0, 255.0, rng.uniform(120, 250), rng.uniform(0, 60)]),
        np.float32,
    )
    if len(scenes) and rng.random() < 0.5:
        canvas = _scene_part(scenes, size, rng)
    for _ in range(int(rng.integers(1, 4))):  # toned regions
        mask = np.zeros((size, size), np.uint8)
        pts = rng.integers(-size // 2, size * 3 // 2, (int(rng.integers(3, 7)), 2)).astype(np.int32)
        cv2.fillPoly(mask, [cv2.convexHull(pts)], 1)
        if rng.random() < 0.5:
            canvas[mask > 0] = (255 * (1 - screentone((size, size), rng)))[mask > 0]
        else:
            canvas[mask > 0] = rng.uniform(0, 255)
    for _ in range(int(rng.integers(0, 3))):  # enlarged hair / clothing from a crop's corner
        paste(canvas, _corner_piece(patches, rng), rng, size)
    for _ in range(int(rng.integers(0, 3))):  # balloons with lettering
        centre = (int(rng.integers(0, size)), int(rng.integers(0, size)))
        axes = (int(rng.integers(12, size // 3)), int(rng.integers(12, size // 3)))
        cv2.ellipse(canvas, centre, axes, 0, 0, 360, 255.0, -1)
        cv2.ellipse(canvas, centre, axes, 0, 0, 360, 0.0, int(rng.integers(1, 4)))
        _glyphs(canvas, centre, axes, rng)
    for _ in range(int(rng.integers(2, 14))):  # strokes, hatching, curves
        shade = float(rng.choice([0, 0, 255, rng.uniform(0, 255)]))
        kind = rng.integers(5)
        if kind == 4:  # a lock of hair: a bundle of dark curves
            start, bend = rng.uniform(0, size, 2), rng.normal(0, size / 6, (3, 2))
            for k in range(int(rng.integers(3, 9))):
                offset = np.array([k * rng.uniform(2, 6), 0.0])
                pts = start + offset + np.cumsum(np.vstack([[0, 0], bend]), axis=0)
                cv2.polylines(
                    canvas,
                    [pts.astype(np.int32)],
                    False,
                    shade,
                    int(rng.integers(1, 4)),
                    cv2.LINE_AA,
                )
        elif kind == 0:
            p = rng.integers(-size // 4, size * 5 // 4, 4)
            cv2.line(
                canvas,
                (int(p[0]), int(p[1])),
                (int(p[2]), int(p[3])),
                shade,
                int(rng.integers(1, 6)),
            )
        elif kind == 1:
            pts = np.cumsum(
                rng.normal(0, size / 10, (int(rng.integers(4, 12)), 2)), axis=0
            ) + rng.uniform(0, size, 2)
            cv2.polylines(
                canvas, [pts.astype(np.int32)], False, shade, int(rng.integers(1, 4)), cv2.LINE_AA
            )
        elif kind == 2:
            centre, n = rng.uniform(0, size, 2), int(rng.integers(8, 40))
            for a in rng.uniform(0, 2 * np.pi, n):
                r0, r1 = rng.uniform(0.2, 0.6) * size, size * 1.5
                p0 = centre + r0 * np.array([np.cos(a), np.sin(a)])
                p1 = centre + r1 * np.array([np.cos(a), np.sin(a)])
                cv2.line(canvas, tuple(map(int, p0)), tuple(map(int, p1)), shade, 1)
        else:
            x, y = rng.integers(0, size, 2)
            axes = (int(rng.integers(10, size // 2)), int(rng.integers(10, size // 2)))
            fill = rng.random() < 0.5
            cv2.ellipse(
                canvas,
                (int(x), int(y)),
                axes,
                float(rng.uniform(0, 180)),
                0,
                360,
                255.0 if fill else shade,
                -1 if fill else 2,
            )
            if fill:
                cv2.ellipse(canvas, (int(x), int(y)), axes, 0, 0, 360, 0.0, int(rng.integers(1, 4)))
                _glyphs(canvas, (int(x), int(y)), axes, rng)
    for _ in range(int(rng.integers(0, HARD_NEGATIVES + 1))):  # sound effects, sparkles, hands
        hard_negative(canvas, rng)
    if rng.random() < 0.5:  # panel borders
        for _ in range(int(rng.integers(1, 3))):
            x1, y1 = rng.integers(-size // 2, size // 2, 2)
            x2, y2 = rng.integers(size // 2, size * 3 // 2, 2)
            cv2.rectangle(
                canvas, (int(x1), int(y1)), (int(x2), int(y2)), 0.0, int(rng.integers(2, 6))
            )
    return canvas


def _scene_part(scenes: list[np.ndarray], size: int, rng: np.random.Generator) -> np.ndarray:
    """A random part of a random scene at a random zoom, print-styled, ``size x size``."""
    scene = scenes[int(rng.integers(len(scenes)))]
    side = int(min(scene.shape) * rng.uniform(0.15, 1.0))
    y, x = rng.integers(0, scene.shape[0] - side + 1), rng.integers(0, scene.shape[1] - side + 1)
    part = cv2.resize(scene[y : y + side, x : x + side], (size, size), interpolation=cv2.INTER_AREA)
    return print_style(part, rng).astype(np.float32)


def _glyphs(
    canvas: np.ndarray, centre: tuple[int, int], axes: tuple[int, int], rng: np.random.Generator
) -> None:
    """Columns of letter-like marks inside a balloon."""
    scale = rng.uniform(0.3, 0.7)
    for col in range(int(rng.integers(1, 4))):
        x = centre[0] - axes[0] // 2 + col * int(20 * scale + 6)
        for row in range(int(rng.integers(1, 6))):
            char = chr(int(rng.integers(33, 126)))
            y = centre[1] - axes[1] // 2 + row * int(28 * scale + 4)
            cv2.putText(canvas, char, (x, y), int(rng.integers(0, 8)), scale, 0.0, 1, cv2.LINE_AA)


def _corner_piece(crops: list[np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """A corner (hair, clothing, background) of a random crop, enlarged and print-styled."""
    crop = crops[int(rng.integers(len(crops)))]
    h, w = crop.shape[:2]
    ph, pw = int(h * rng.uniform(0.2, 0.35)), int(w * rng.uniform(0.2, 0.35))
    y = 0 if rng.random() < 0.6 else h - ph
    x = 0 if rng.random() < 0.5 else w - pw
    piece = to_grey(crop[y : y + ph, x : x + pw])
    side = int(rng.uniform(30, 160))
    return print_style(cv2.resize(piece, (side, int(side * ph / pw) + 1)), rng)


def paste(canvas: np.ndarray, piece: np.ndarray, rng: np.random.Generator, size: int, at=None):
    """Blend ``piece`` into ``canvas`` with a hard, soft or elliptic edge at ``at`` (top-left;
    random when None); returns the top-left or None when it does not fit."""
    h, w = piece.shape
    if h >= size or w >= size:
        return None
    x, y = (
        at if at is not None else (int(rng.integers(0, size - w)), int(rng.integers(0, size - h)))
    )
    edge = rng.choice(["hard", "ellipse", "soft"])
    if edge == "hard":
        alpha = np.ones((h, w), np.float32)
        if rng.random() < 0.4:
            cv2.rectangle(alpha, (0, 0), (w - 1, h - 1), 1.0, 1)
            piece = piece.copy()
            cv2.rectangle(piece, (0, 0), (w - 1, h - 1), 0.0, int(rng.integers(1, 3)))
    else:
        alpha = np.zeros((h, w), np.float32)
        cv2.ellipse(alpha, (w // 2, h // 2), (int(w * 0.55), int(h * 0.6)), 0, 0, 360, 1.0, -1)
        if edge == "soft":
            alpha = cv2.GaussianBlur(alpha, (0, 0), max(w, h) / 12)
    region = canvas[y : y + h, x : x + w]
    region[:] = alpha * piece + (1 - alpha) * region
    return x, y
