"""Synthetic grey page patches with drawn faces pasted in, to train the drawn-face detector.

Each patch is a manga-like background (paper, screentone, hatching, speed lines, panel borders,
balloons with glyphs, enlarged hair and clothing taken from the corners of face crops) with
0-4 drawn face crops pasted at random scale (half of them small, as manga draws most faces),
rotation and width (a narrowed face looks turned), each rendered in a random print style
(grey, line art, inked outlines, posterised with screentone, blurred), with soft or hard edges,
sometimes overlapping, partly covered or cut by a panel border. The truth is where each face
was pasted (its visible part when cut), never a detector's output. Pieces that are not faces
are pasted with the same edges, so that a pasted rectangle is no cue.
"""

from __future__ import annotations

import cv2
import numpy as np

from raypipe.testing.drawn_negatives import hard_negative
from raypipe.testing.drawn_styles import print_style, screentone, simple_face, to_grey

#: Part of a face crop's side trimmed from each edge to box the face itself.
FACE_INSET = 0.06
#: Share of pasted faces drawn in a few strokes (:func:`simple_face`) instead of a real crop.
SIMPLE_FACES = 0.12
#: Share of pasted faces drawn small (14 to :data:`SMALL_FACE` pixels wide), as on manga pages.
SMALL_FACES = 0.5
SMALL_FACE = 64
#: Share of pasted faces cut by a panel border (the gutter hides the rest).
CUT_FACES = 0.15
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
        _paste(canvas, _corner_piece(patches, rng), rng, size)
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


def _paste(canvas: np.ndarray, piece: np.ndarray, rng: np.random.Generator, size: int, at=None):
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


def training_patch(
    size: int,
    rng: np.random.Generator,
    faces: list[np.ndarray],
    max_face: int = 220,
    scenes: list[np.ndarray] = (),
    simple_faces: float = SIMPLE_FACES,
) -> tuple[np.ndarray, np.ndarray]:
    """``(grey uint8 size x size patch, (n, 4) float32 xyxy face boxes)``; ``faces`` are RGB crops
    whose face fills the crop but for :data:`FACE_INSET`; ``scenes``: see :func:`background`;
    ``simple_faces``: share of the faces drawn in a few strokes instead."""
    canvas = background(size, rng, faces, scenes)
    boxes: list[tuple[float, ...]] = []
    n_faces = int(rng.choice([0, 1, 1, 2, 2, 3, 4]))
    for _ in range(n_faces):
        crop = (
            faces[int(rng.integers(len(faces)))]
            if rng.random() > simple_faces
            else simple_face(160, rng)
        )
        largest = SMALL_FACE if rng.random() < SMALL_FACES else min(max_face, size * 0.8)
        side = float(np.exp(rng.uniform(np.log(14), np.log(largest))))
        narrow = rng.uniform(0.6, 1.0) if rng.random() < 0.3 else 1.0  # a turned head
        height = int(side * crop.shape[0] / crop.shape[1])
        piece = print_style(to_grey(cv2.resize(crop, (max(8, int(side * narrow)), height))), rng)
        if rng.random() < 0.5:
            piece = piece[:, ::-1]
        angle = rng.uniform(-30, 30) if rng.random() < 0.5 else 0.0
        if angle:
            h, w = piece.shape
            turn = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
            piece = cv2.warpAffine(piece, turn, (w, h), borderMode=cv2.BORDER_REFLECT)
        h, w = piece.shape
        at = _free_spot(boxes, w, h, size, rng)
        if at is None or _paste(canvas, np.ascontiguousarray(piece), rng, size, at) is None:
            continue
        dx, dy = FACE_INSET * w, FACE_INSET * h
        box = (at[0] + dx, at[1] + dy, at[0] + w - dx, at[1] + h - dy)
        if rng.random() < 0.3:
            _occlude(canvas, box, rng)
        if rng.random() < CUT_FACES:
            box = _cut_by_border(canvas, box, rng)
        boxes.append(box)
    image = _degrade(canvas, rng)
    return image, np.asarray(boxes, np.float32).reshape(-1, 4)


def _free_spot(boxes, w: int, h: int, size: int, rng: np.random.Generator):
    """A top-left corner where a ``w x h`` piece overlaps earlier faces by under half."""
    if w >= size or h >= size:
        return None
    for _ in range(10):
        x, y = int(rng.integers(0, size - w)), int(rng.integers(0, size - h))
        clear = all(
            max(0, min(x + w, b[2]) - max(x, b[0])) * max(0, min(y + h, b[3]) - max(y, b[1]))
            < 0.5 * min(w * h, (b[2] - b[0]) * (b[3] - b[1]))
            for b in boxes
        )
        if clear:
            return x, y
    return None


def _cut_by_border(canvas: np.ndarray, box, rng: np.random.Generator) -> tuple[float, ...]:
    """Cut the face in ``box`` by a panel border: 55-90% of it stays, the rest and a margin
    beyond become white gutter behind a black frame line; returns the box of the visible part."""
    x1, y1, x2, y2 = box
    keep, side, line = rng.uniform(0.55, 0.9), int(rng.integers(4)), int(rng.integers(1, 4))
    size = canvas.shape[0]
    if side < 2:  # vertical border: the left (0) or right (1) part stays
        cut = x1 + keep * (x2 - x1) if side == 0 else x2 - keep * (x2 - x1)
        gutter = (int(cut), 0, size, size) if side == 0 else (0, 0, int(cut), size)
        visible = (x1, y1, cut, y2) if side == 0 else (cut, y1, x2, y2)
    else:  # horizontal border: the top (2) or bottom (3) part stays
        cut = y1 + keep * (y2 - y1) if side == 2 else y2 - keep * (y2 - y1)
        gutter = (0, int(cut), size, size) if side == 2 else (0, 0, size, int(cut))
        visible = (x1, y1, x2, cut) if side == 2 else (x1, cut, x2, y2)
    gx1, gy1, gx2, gy2 = gutter  # kept near the face
    margin = int(rng.uniform(0.1, 0.4) * max(x2 - x1, y2 - y1)) + line
    gx1, gx2 = (max(gx1, int(x1) - margin), min(gx2, int(x2) + margin))
    gy1, gy2 = (max(gy1, int(y1) - margin), min(gy2, int(y2) + margin))
    canvas[gy1:gy2, gx1:gx2] = 255.0
    edge = (int(cut), gy1, int(cut), gy2) if side < 2 else (gx1, int(cut), gx2, int(cut))
    cv2.line(canvas, edge[:2], edge[2:], 0.0, line)
    return visible


def _occlude(canvas: np.ndarray, box, rng: np.random.Generator) -> None:
    """Cover up to about a third of the face with a balloon, a block or a hand-like blob."""
    x1, y1, x2, y2 = box
    w, h = x2 - x1, y2 - y1
    side = rng.integers(4)
    cx = x1 + (w * rng.uniform(-0.1, 0.1) if side < 2 else (0 if side == 2 else w))
    cy = y1 + (h * rng.uniform(0.9, 1.1) if side == 0 else (0 if side == 1 else h / 2))
    axes = (int(w * rng.uniform(0.2, 0.45)), int(h * rng.uniform(0.2, 0.45)))
    fill = float(rng.choice([255.0, 0.0, rng.uniform(0, 255)]))
    cv2.ellipse(canvas, (int(cx + w / 2 * (side < 2)), int(cy)), axes, 0, 0, 360, fill, -1)
    cv2.ellipse(canvas, (int(cx + w / 2 * (side < 2)), int(cy)), axes, 0, 0, 360, 0.0, 2)


def _degrade(canvas: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Scanning and compression: blur or resampling, noise, JPEG."""
    size = canvas.shape[0]
    if rng.random() < 0.4:
        small = int(size * rng.uniform(0.5, 0.9))
        canvas = cv2.resize(
            cv2.resize(canvas, (small, small), interpolation=cv2.INTER_AREA), (size, size)
        )
    if rng.random() < 0.3:
        canvas = canvas + rng.normal(0, rng.uniform(2, 10), canvas.shape)
    image = np.clip(canvas, 0, 255).astype(np.uint8)
    if rng.random() < 0.3:
        _, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(40, 90))])
        image = cv2.imdecode(jpeg, cv2.IMREAD_GRAYSCALE)
    return image
