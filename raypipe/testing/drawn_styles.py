"""How drawn things look in print, for the synthetic training pages of the drawn-face detector:
grey, line art, screentone, blur, inked outlines, flat greys (:func:`print_style`), and faces drawn in a few
strokes (:func:`simple_face`).
"""

from __future__ import annotations

import cv2
import numpy as np


def to_grey(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


_SCREENS: list[np.ndarray] = []


def screentone(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A 0/1 dot (or line) screen of random pitch and angle (cut from a bank of 48 screens of
    512 x 512, tiled for a larger ``shape``)."""
    if not _SCREENS:  # drawn from their own seed: a page's draws do not depend on what ran before
        bank = np.random.default_rng(0)
        _SCREENS.extend(_screen((512, 512), bank) for _ in range(48))
    screen = _SCREENS[int(rng.integers(len(_SCREENS)))]
    if max(shape) > 512:
        tiles = (-(-shape[0] // 512), -(-shape[1] // 512))
        return np.tile(screen, tiles)[: shape[0], : shape[1]]
    y, x = rng.integers(0, 512 - shape[0] + 1), rng.integers(0, 512 - shape[1] + 1)
    return screen[y : y + shape[0], x : x + shape[1]]


def _screen(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    h, w = shape
    pitch, angle = rng.uniform(3, 8), rng.uniform(0, np.pi)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    u = (xx * np.cos(angle) + yy * np.sin(angle)) / pitch
    v = (-xx * np.sin(angle) + yy * np.cos(angle)) / pitch
    if rng.random() < 0.25:
        return (np.abs(u - np.round(u)) < rng.uniform(0.12, 0.3)).astype(np.float32)
    d = np.hypot(u - np.round(u), v - np.round(v))
    return (d < rng.uniform(0.2, 0.42)).astype(np.float32)


#: The print styles of :func:`print_style` and how often each is drawn.
PRINT_STYLES = {"grey": 0.15, "lineart": 0.15, "tone": 0.15, "soft": 0.1, "ink": 0.25, "flat": 0.2}
#: The styles of black-and-white printed manga (no photographic grey, no blur).
MANGA_STYLES = {"lineart": 0.15, "tone": 0.2, "ink": 0.35, "flat": 0.3}


def print_style(
    grey: np.ndarray, rng: np.random.Generator, styles: dict[str, float] = PRINT_STYLES
) -> np.ndarray:
    """``grey`` rendered as a printed page might show it, in one of ``styles`` (name -> share)."""
    g = grey.astype(np.float32)
    style = rng.choice(list(styles), p=list(styles.values()))
    if style == "ink":
        g = inked(grey, rng)
    elif style == "flat":
        g = flat_greys(grey, rng)
    elif style == "lineart":
        block = int(rng.choice([7, 9, 11, 15]))
        ink = cv2.adaptiveThreshold(
            grey, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, block, rng.uniform(3, 10)
        )
        g = ink.astype(np.float32)
        g[grey < rng.uniform(30, 80)] = 0  # dark hair stays solid
    elif style == "tone":
        low, high = np.sort(rng.uniform(50, 200, 2))
        dots = screentone(grey.shape, rng)
        mid = (g >= low) & (g < high)
        g = np.where(g < low, 0, 255).astype(np.float32)
        g[mid] = 255 * (1 - dots[mid])
        edges = cv2.Canny(grey, 60, 150) > 0
        g[edges] = 0
    elif style == "soft":
        g = cv2.GaussianBlur(g, (0, 0), rng.uniform(0.6, 1.5))
    gamma = rng.uniform(0.6, 1.5)
    return 255 * (np.clip(g, 0, 255) / 255) ** gamma


def inked(grey: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``grey`` as manga inks it (float32, 0 or 255 but for tone): the outlines of an XDoG
    edge filter (difference of Gaussians, thresholded), the darkest parts solid black and
    sometimes the mid tones in screentone; no shading otherwise."""
    g = grey.astype(np.float32)
    out = np.where(_outlines(g, rng), 0.0, 255.0).astype(np.float32)
    out[g < rng.uniform(20, 70)] = 0.0
    if rng.random() < 0.5:
        mid = (g >= rng.uniform(70, 110)) & (g < rng.uniform(130, 180)) & (out > 0)
        out[mid] = 255 * (1 - screentone(grey.shape, rng))[mid]
    return out


def flat_greys(grey: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``grey`` as digital manga prints it (float32): thin black outlines (:func:`_outlines`) over
    two or three flat fills: white paper, a light grey and a darker grey or solid black."""
    g = cv2.GaussianBlur(grey.astype(np.float32), (0, 0), 1.0)
    low, high = np.sort(rng.uniform(40, 190, 2))
    dark = 0.0 if rng.random() < 0.4 else rng.uniform(60, 150)
    out = np.where(g < low, dark, np.where(g < high, rng.uniform(165, 235), 255.0)).astype(
        np.float32
    )
    out[_outlines(grey.astype(np.float32), rng)] = 0.0
    return out


def _outlines(g: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Where an XDoG edge filter (difference of Gaussians, thresholded) inks a line."""
    sigma = rng.uniform(0.5, 1.3) * max(1.0, min(g.shape) / 120)
    dog = cv2.GaussianBlur(g, (0, 0), sigma) - 0.98 * cv2.GaussianBlur(g, (0, 0), 1.6 * sigma)
    return dog < -rng.uniform(1.0, 5.0)


def simple_face(size: int, rng: np.random.Generator) -> np.ndarray:
    """A face drawn in a few strokes, as manga draws side characters and gag panels: a head
    outline (sometimes bald), dot, line or ring eyes, brows, a nose tick and a mouth; RGB."""
    s = size
    face = np.full((s, s), 255, np.uint8)
    cx, cy, rx, ry = s / 2, s * 0.52, s * rng.uniform(0.36, 0.46), s * rng.uniform(0.4, 0.48)
    cv2.ellipse(
        face, (int(cx), int(cy)), (int(rx), int(ry)), 0, 0, 360, 0, max(1, s // 40), cv2.LINE_AA
    )
    if rng.random() < 0.6:  # hair: a dark cap with a fringe, or spiky strokes
        top = np.zeros_like(face)
        cv2.ellipse(top, (int(cx), int(cy)), (int(rx * 1.08), int(ry * 1.05)), 0, 180, 360, 255, -1)
        fringe = int(cy - ry * rng.uniform(0.1, 0.5))
        top[fringe:] = 0
        face[top > 0] = int(rng.choice([0, 60, 200]))
    cx += rx * rng.uniform(-0.35, 0.35) * (rng.random() < 0.5)  # a turned head: features aside
    eye_y, gap = cy + ry * rng.uniform(-0.1, 0.15), rx * rng.uniform(0.35, 0.55)
    eye = max(2, int(s * rng.uniform(0.03, 0.12)))
    kind = rng.integers(4)
    for side in (-1, 1):
        ex = int(cx + side * gap)
        if kind == 0:
            cv2.circle(face, (ex, int(eye_y)), max(2, eye // 3), 0, -1)
        elif kind == 1:
            cv2.line(face, (ex - eye, int(eye_y)), (ex + eye, int(eye_y)), 0, max(1, s // 40))
        elif kind == 2:
            cv2.ellipse(
                face, (ex, int(eye_y)), (eye, int(eye * 1.3)), 0, 0, 360, 0, max(1, s // 50)
            )
            cv2.circle(face, (ex, int(eye_y + eye * 0.3)), max(1, eye // 2), 0, -1)
        else:
            cv2.ellipse(face, (ex, int(eye_y)), (eye, eye), 0, 200, 340, 0, max(1, s // 40))
        brow_y = int(eye_y - eye * 1.6 - s * 0.03)
        cv2.line(
            face,
            (ex - eye, brow_y + int(rng.integers(-2, 3))),
            (ex + eye, brow_y),
            0,
            max(1, s // 50),
        )
    if rng.random() < 0.6:
        nose = (int(cx), int(eye_y + ry * 0.3))
        cv2.line(face, nose, (nose[0] + int(s * 0.02), nose[1] + int(s * 0.04)), 0, max(1, s // 60))
    mouth_y, width = int(cy + ry * rng.uniform(0.45, 0.65)), int(rx * rng.uniform(0.15, 0.45))
    if rng.random() < 0.5:
        cv2.ellipse(
            face, (int(cx), mouth_y), (width, max(2, width // 2)), 0, 0, 180, 0, max(1, s // 50)
        )
    else:
        cv2.ellipse(
            face,
            (int(cx), mouth_y),
            (width, max(2, int(width * rng.uniform(0.3, 1)))),
            0,
            0,
            360,
            0,
            -1 if rng.random() < 0.5 else max(1, s // 50),
        )
    if rng.random() < 0.5:  # ears
        for side in (-1, 1):
            cv2.ellipse(
                face,
                (int(cx + side * rx), int(eye_y + ry * 0.1)),
                (max(2, int(rx * 0.15)), max(3, int(ry * 0.2))),
                0,
                0,
                360,
                0,
                max(1, s // 60),
            )
    return cv2.cvtColor(face, cv2.COLOR_GRAY2RGB)
