"""Marks of a manga page that are not faces but look like small ones to a detector, drawn into
the synthetic training pages as hard negatives: sound effects (big outlined letters), sparkles
and flower marks, and hands (a palm with fingers, in line art).
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


def hand(canvas: np.ndarray, rng: np.random.Generator) -> None:
    """A hand in line art: a palm outline with four or five fingers, filled white or light grey."""
    size = canvas.shape[0]
    scale = rng.uniform(12, 45)
    centre, turn = rng.uniform(0, size, 2), rng.uniform(0, 2 * np.pi)
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
