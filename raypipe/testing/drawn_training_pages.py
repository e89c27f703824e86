"""Synthetic grey page patches with drawn faces pasted in, to train the drawn-face detector.

Each patch is a manga-like background (:mod:`raypipe.testing.drawn_backgrounds`) with 0-4
drawn face crops pasted at random scale (half of them small, as manga draws most faces),
rotation and width (a narrowed face looks turned), each rendered in a random print style
(grey, line art, inked outlines, posterised with screentone, blurred), with soft or hard edges,
sometimes overlapping, partly covered or cut by a panel border; behind them, sometimes line art
as large as a close-up face that is not one (the back of a head, shoulders, a hand:
:func:`raypipe.testing.drawn_negatives.close_up_negative`). The truth is where each face
was pasted (its visible part when cut), never a detector's output. Pieces that are not faces
are pasted with the same edges, so that a pasted rectangle is no cue.
"""

from __future__ import annotations

import cv2
import numpy as np

from raypipe.testing.drawn_backgrounds import background, paste
from raypipe.testing.drawn_negatives import close_up_negative
from raypipe.testing.drawn_styles import print_style, simple_face, to_grey

#: Part of a face crop's side trimmed from each edge to box the face itself.
FACE_INSET = 0.06
#: Share of pasted faces drawn in a few strokes (:func:`simple_face`) instead of a real crop.
SIMPLE_FACES = 0.12
#: Share of pasted faces drawn small (14 to :data:`SMALL_FACE` pixels wide), as on manga pages.
SMALL_FACES = 0.5
SMALL_FACE = 64
#: Share of pasted faces cut by a panel border (the gutter hides the rest).
CUT_FACES = 0.15
#: Share of patches with a close-up negative (a face-sized piece of line art, no truth box).
CLOSE_UP_NEGATIVES = 0.3


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
    if rng.random() < CLOSE_UP_NEGATIVES:
        piece = close_up_negative(int(rng.uniform(0.3, 0.85) * size), rng, faces)
        paste(
            canvas, np.ascontiguousarray(print_style(piece, rng)[: size - 1, : size - 1]), rng, size
        )
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
        if at is None or paste(canvas, np.ascontiguousarray(piece), rng, size, at) is None:
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
