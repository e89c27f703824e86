"""Bodies and whole figures that are not faces, painted in colour or shades of grey and pasted
onto finished pages (under a face, as a character's body sits, or on their own): the hard
negatives a candidate verifier is trained on (``bench/train_drawn_verifier.py``). The pages'
generators are not changed: :func:`with_figures` draws onto a page they made, with its own random
generator, adds no truth box and covers no face.
"""

from __future__ import annotations

import cv2
import numpy as np

from raypipe.detect.boxes import boxes_overlap
from raypipe.testing.drawn_negatives import body, hand

#: Share of a page's faces that get a body under them, and the most figures one page gets.
BODIES_UNDER_FACES, MOST_FIGURES = 0.5, 4


def figure(canvas: np.ndarray, rng: np.random.Generator) -> None:
    """A whole figure, its head out of frame (in place, float32 grey): a neck, a torso from the
    shoulders to the hips in clothes filled white, grey or dark, and two arms (upper arm and
    forearm, bent at the elbow) in outlined sleeves, sometimes with hands."""
    h, w = canvas.shape
    line = max(1, int(w / rng.uniform(60, 150)))
    fill = float(rng.choice([255.0, rng.uniform(120, 230), rng.uniform(0, 60)]))
    top, hips = rng.uniform(0.1, 0.3), rng.uniform(0.85, 1.1)
    half_s, half_h = rng.uniform(0.18, 0.3), rng.uniform(0.12, 0.22)
    cx = 0.5 + rng.uniform(-0.08, 0.08)
    neck = np.array([(cx - 0.05, -0.05), (cx - 0.05, top), (cx + 0.05, top), (cx + 0.05, -0.05)])
    cv2.fillPoly(canvas, [(neck * (w, h)).astype(np.int32)], 255.0, cv2.LINE_AA)
    cv2.polylines(canvas, [(neck * (w, h)).astype(np.int32)], False, 0.0, line, cv2.LINE_AA)
    arm_w = max(3, int(w * rng.uniform(0.06, 0.11)))
    for side in (-1, 1):
        shoulder = np.array([cx + side * half_s, top + 0.06])
        elbow = shoulder + (side * rng.uniform(0.0, 0.15), rng.uniform(0.2, 0.32))
        wrist = elbow + (rng.uniform(-0.25, 0.25), rng.uniform(-0.3, 0.25))
        pts = (np.array([shoulder, elbow, wrist]) * (w, h)).astype(np.int32)
        for colour, extra in ((0.0, 2 * line), (fill, 0)):
            cv2.polylines(canvas, [pts], False, colour, arm_w + extra, cv2.LINE_AA)
        if rng.random() < 0.5:
            hand(canvas, rng, arm_w * rng.uniform(0.8, 1.3), pts[2])
    torso = np.array([(cx - half_s, top + 0.04), (cx + half_s, top + 0.04),
                      (cx + half_h, hips), (cx - half_h, hips)]) * (w, h)  # fmt: skip
    cv2.fillPoly(canvas, [torso.astype(np.int32)], fill, cv2.LINE_AA)
    cv2.polylines(canvas, [torso.astype(np.int32)], True, 0.0, line, cv2.LINE_AA)
    for _ in range(int(rng.integers(1, 5))):  # folds
        start = rng.uniform([cx - half_h, top + 0.15], [cx + half_h, hips - 0.1]) * (w, h)
        pts = start + np.cumsum(rng.normal(0, w / 14, (3, 2)), axis=0)
        cv2.polylines(canvas, [pts.astype(np.int32)], False, 0.0, line, cv2.LINE_AA)


def painted(art: np.ndarray, rng: np.random.Generator, colour: bool) -> np.ndarray:
    """Line ``art`` (uint8 grey) painted: each region between the lines filled with its own colour
    (``colour``, RGB out) or grey (a colour's lightness, grey out), lit by a smooth gradient with
    soft shadows, the lines softened; uint8."""
    n, regions = cv2.connectedComponents((art > 128).astype(np.uint8), connectivity=4)
    paints = rng.uniform(70, 250, (n, 3 if colour else 1)).astype(np.float32)
    paints[0] = 0.0  # the lines
    filled = np.where((art > 128)[..., None], paints[regions], art[..., None].astype(np.float32))
    h, w = art.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32) / max(h, w)
    turn = rng.uniform(0, 2 * np.pi)
    light = 1 + rng.uniform(0.1, 0.35) * ((xx - 0.5) * np.cos(turn) + (yy - 0.5) * np.sin(turn))
    shadow = cv2.resize(rng.normal(0, 1, (4, 4)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    shade = (light * (1 - rng.uniform(0.1, 0.3) * np.clip(shadow, 0, 2)))[..., None]
    out = cv2.GaussianBlur(filled * shade, (0, 0), rng.uniform(0.5, 1.2))
    return np.clip(out, 0, 255).astype(np.uint8).reshape(h, w, -1)


def figure_piece(side: int, rng: np.random.Generator, colour: bool) -> tuple[np.ndarray, np.ndarray]:
    """``(rgb, mask)``: shoulders and clothing or a whole figure, ``side`` wide, as line art or
    painted (in colour when ``colour``); the mask leaves out the paper around it (what is
    connected to the top corners)."""
    canvas = np.full((side, side), 255.0, np.float32)
    (figure if rng.random() < 0.5 else body)(canvas, rng)
    art = canvas.astype(np.uint8)
    _, regions = cv2.connectedComponents((art > 128).astype(np.uint8), connectivity=4)
    paper = {int(regions[0, 0]), int(regions[0, -1])} - {0}
    mask = ~np.isin(regions, list(paper))
    shown = painted(art, rng, colour) if rng.random() < 0.7 else art[..., None]
    return np.broadcast_to(shown, (side, side, 3)).copy(), mask


def with_figures(page: np.ndarray, faces: list, rng: np.random.Generator) -> np.ndarray:
    """A copy of the RGB ``page`` with bodies under some of its ``faces`` (true boxes) and a
    figure on its own, in colour when the page is in colour; none covers a face."""
    out = page.copy()
    colour = bool(np.ptp(page.astype(np.int16), axis=2).max() > 16)
    height, width = page.shape[:2]
    spots = []
    for x1, y1, x2, y2 in faces:
        if rng.random() < BODIES_UNDER_FACES:
            side = (x2 - x1) * rng.uniform(1.6, 2.6)
            spots.append(((x1 + x2) / 2 - side / 2 + rng.uniform(-0.15, 0.15) * side, y2 + 1, side))
    side = min(height, width) * rng.uniform(0.1, 0.35)
    spots.append((rng.uniform(0, width - side), rng.uniform(0, height - side), side))
    for left, top, side in spots[-MOST_FIGURES:]:
        side = int(side)
        box = (int(left), int(top), int(left) + side, int(top) + side)
        if side < 16 or any(boxes_overlap(box, face) for face in faces):
            continue
        piece, mask = figure_piece(side, rng, colour)
        x1, y1, x2, y2 = max(box[0], 0), max(box[1], 0), min(box[2], width), min(box[3], height)
        if x2 - x1 < 8 or y2 - y1 < 8:
            continue
        cut = (slice(y1 - box[1], y2 - box[1]), slice(x1 - box[0], x2 - box[0]))
        view = out[y1:y2, x1:x2]
        view[mask[cut]] = piece[cut][mask[cut]]
    return out
