"""Marks of a manga page that are not faces but look like small ones to a detector, drawn into
the synthetic training pages as hard negatives: sound effects (big outlined letters), sparkles
and flower marks, and hands (a palm with fingers, in line art); and, as large as a close-up face
(:func:`close_up_negative`), the back of a head, a body's shoulders and clothing, or a hand.
"""

from __future__ import annotations

import cv2
import numpy as np


def hard_negative(canvas: np.ndarray, rng: np.random.Generator) -> None:
    """Draw one random hard negative somewhere on ``canvas`` (float32 grey, in place)."""
    kind = rng.integers(3)
    if kind == 0:
        sound_effect(canvas, rng)
    elif kind == 1:
        sparkle(canvas, rng)
    else:
        hand(canvas, rng)


def sound_effect(canvas: np.ndarray, rng: np.random.Generator) -> None:
    """A few big letters, outlined (white with a black rim) or solid, rotated: as manga letters
    sound effects across the art."""
    size = canvas.shape[0]
    layer, alpha = np.zeros_like(canvas), np.zeros_like(canvas)
    scale, thick = rng.uniform(0.8, 2.5), int(rng.integers(2, 6))
    x, y = int(rng.integers(0, size // 2)), int(rng.integers(size // 4, size))
    text = "".join(chr(int(rng.integers(33, 126))) for _ in range(int(rng.integers(1, 4))))
    font = int(rng.choice([0, 2, 3, 4, 6]))
    outlined = rng.random() < 0.6
    if outlined:
        cv2.putText(alpha, text, (x, y), font, scale, 1.0, thick + 4, cv2.LINE_AA)
        cv2.putText(layer, text, (x, y), font, scale, 255.0, thick, cv2.LINE_AA)
    else:
        cv2.putText(alpha, text, (x, y), font, scale, 1.0, thick, cv2.LINE_AA)
    turn = cv2.getRotationMatrix2D((x, y), rng.uniform(-40, 40), 1.0)
    layer, alpha = (cv2.warpAffine(a, turn, (size, size)) for a in (layer, alpha))
    canvas[:] = alpha * layer + (1 - alpha) * canvas


def sparkle(canvas: np.ndarray, rng: np.random.Generator) -> None:
    """A small star, flower or sparkle mark: a white shape of 4-6 round petals or spikes with a
    black rim, sometimes a dot in its middle."""
    size = canvas.shape[0]
    centre = rng.uniform(0, size, 2)
    radius, petals = rng.uniform(5, 22), int(rng.integers(4, 7))
    angles = rng.uniform(0, 2 * np.pi) + np.arange(2 * petals) * np.pi / petals
    spiky = rng.random() < 0.5
    radii = np.where(np.arange(2 * petals) % 2 == 0, radius, radius * (0.25 if spiky else 0.6))
    pts = (centre + np.stack([np.cos(angles), np.sin(angles)], 1) * radii[:, None]).astype(np.int32)
    if not spiky:
        pts = cv2.approxPolyDP(pts, 0.5, True).reshape(-1, 2)
    cv2.fillPoly(canvas, [pts], 255.0, cv2.LINE_AA)
    cv2.polylines(canvas, [pts], True, 0.0, int(rng.integers(1, 3)), cv2.LINE_AA)
    if rng.random() < 0.4:
        cv2.circle(canvas, tuple(int(v) for v in centre), max(1, int(radius / 5)), 0.0, -1)


def hand(canvas: np.ndarray, rng: np.random.Generator, scale: float = 0.0, centre=None) -> None:
    """A hand in line art: a palm outline with four or five fingers, filled white or light grey;
    ``scale``: the palm's half width (pixels; random 12-45 when 0), ``centre`` random when None."""
    size = canvas.shape[0]
    scale = scale or rng.uniform(12, 45)
    centre = rng.uniform(0, size, 2) if centre is None else np.asarray(centre, float)
    turn = rng.uniform(0, 2 * np.pi)
    fill, line = float(rng.choice([255.0, rng.uniform(170, 245)])), int(rng.integers(1, 3))
    rotation = np.array([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]])

    def at(points: np.ndarray) -> np.ndarray:
        return (points @ rotation.T * scale + centre).astype(np.int32)

    spread = rng.uniform(0.1, 0.35)
    for k in range(int(rng.integers(4, 6))):
        a = -np.pi / 2 + (k - 1.5) * spread
        base = np.array([0.3 * np.cos(a) * 1.2, -0.3])
        tip = base + rng.uniform(0.5, 0.9) * np.array([np.cos(a), np.sin(a)])
        for colour, extra in ((0.0, 2 * line), (fill, 0)):
            cv2.line(canvas, tuple(at(base[None])[0]), tuple(at(tip[None])[0]), colour,
                     max(1, int(0.22 * scale)) + extra, cv2.LINE_AA)  # fmt: skip
    palm = at(np.array([[-0.45, -0.35], [0.45, -0.35], [0.4, 0.45], [-0.4, 0.5]]))
    cv2.fillPoly(canvas, [palm], fill, cv2.LINE_AA)
    cv2.polylines(canvas, [palm], True, 0.0, line, cv2.LINE_AA)


def close_up_negative(side: int, rng: np.random.Generator, crops: list[np.ndarray]) -> np.ndarray:
    """Line art as large as a close-up face that is not a face (uint8 grey, ``side`` wide): the
    back of a head (the hair of one of the RGB face ``crops``, no features), shoulders and
    clothing, or a hand; drawn on white, to be print-styled and pasted like a face."""
    kind = int(rng.integers(3)) if len(crops) else int(rng.integers(1, 3))
    if kind == 0:
        return back_of_head(crops[int(rng.integers(len(crops)))], side, rng)
    canvas = np.full((side, side), 255.0, np.float32)
    if kind == 1:
        body(canvas, rng)
    else:
        hand(canvas, rng, side * rng.uniform(0.25, 0.4), rng.uniform(0.4, 0.6, 2) * side)
    return canvas.astype(np.uint8)


def back_of_head(crop: np.ndarray, side: int, rng: np.random.Generator) -> np.ndarray:
    """A head seen from behind (uint8 grey, ``side`` wide): the top of a face crop (its hair,
    above the eyes), enlarged to fill a head outline on white, sometimes with a neck below."""
    top = crop[: max(4, int(crop.shape[0] * rng.uniform(0.2, 0.32)))]
    height = int(side * rng.uniform(0.9, 1.15))
    hair = cv2.resize(cv2.cvtColor(top, cv2.COLOR_RGB2GRAY), (side, height)).astype(np.float32)
    head = np.zeros((height, side), np.uint8)
    centre, axes = (
        (side // 2, int(height * 0.45)),
        (int(side * rng.uniform(0.38, 0.48)), int(height * 0.45)),
    )
    cv2.ellipse(head, centre, axes, 0, 0, 360, 1, -1)
    out = np.where(head > 0, hair, 255.0).astype(np.float32)
    cv2.ellipse(out, centre, axes, 0, 0, 360, 0.0, max(1, side // 80), cv2.LINE_AA)
    if rng.random() < 0.6:  # the neck
        x1, x2 = int(side * 0.4), int(side * 0.6)
        for x in (x1, x2):
            cv2.line(out, (x, centre[1] + axes[1] - 4), (x, height - 1), 0.0, max(1, side // 90))
    return np.clip(out, 0, 255).astype(np.uint8)


def body(canvas: np.ndarray, rng: np.random.Generator) -> None:
    """Shoulders and clothing in line art (in place, float32 grey): a neck, the shoulders'
    outline, a collar and a few folds, the clothes filled white, grey or dark."""
    h, w = canvas.shape

    def jitter() -> float:
        return rng.uniform(-0.05, 0.05)

    neck_y, collar = rng.uniform(0.1, 0.35), rng.uniform(0.15, 0.35)
    left = [(0.4 + jitter(), -0.05), (0.4 + jitter(), neck_y), (0.12 + jitter(), neck_y + 0.12),
            (0.02 + jitter(), neck_y + 0.3), (-0.05, 1.05)]  # fmt: skip
    outline = np.array(left + [(1 - x, y) for x, y in reversed(left)]) * (w, h)
    clothes = np.array([(0.0, 1.05)] + left[2:4] + [(0.5, neck_y + 0.02)]
                       + [(1 - x, y) for x, y in reversed(left[2:4])] + [(1.0, 1.05)]) * (w, h)  # fmt: skip
    fill = float(rng.choice([255.0, rng.uniform(120, 230), rng.uniform(0, 60)]))
    line = max(1, int(w / rng.uniform(60, 150)))
    cv2.fillPoly(canvas, [clothes.astype(np.int32)], fill, cv2.LINE_AA)
    cv2.polylines(canvas, [outline.astype(np.int32)], False, 0.0, line, cv2.LINE_AA)
    v = np.array(
        [
            (0.5 - collar / 2, neck_y + 0.05),
            (0.5, neck_y + collar),
            (0.5 + collar / 2, neck_y + 0.05),
        ]
    )
    cv2.polylines(canvas, [(v * (w, h)).astype(np.int32)], False, 0.0, line, cv2.LINE_AA)
    for _ in range(int(rng.integers(2, 7))):  # folds
        start = rng.uniform([0.1, neck_y + 0.2], [0.9, 0.9]) * (w, h)
        pts = start + np.cumsum(rng.normal(0, w / 12, (3, 2)), axis=0)
        cv2.polylines(canvas, [pts.astype(np.int32)], False, 0.0, line, cv2.LINE_AA)
    if rng.random() < 0.4:
        hand(canvas, rng, w * rng.uniform(0.12, 0.22), rng.uniform([0.2, 0.4], [0.8, 0.9]) * (w, h))
