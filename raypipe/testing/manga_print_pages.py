"""Composed pages printed as black-and-white manga, with the face sizes of manga panels: a
choosing set for the drawn-face detector that is closer to printed manga than colour pages.

A page is a grid of bordered, upright panels (:func:`raypipe.testing.comic_drawing.grid_polygons`,
read right to left) on white paper. Each panel is one shot: a **close-up** (one face filling 45-85%
of the panel's short side), a **medium** shot (one or two faces of 18-40%) or a **long** shot
(one to three faces of 7-18%, at least :data:`MIN_FACE` pixels), over paper, a manga-like
background (:func:`raypipe.testing.drawn_backgrounds.background`) or screentone, with a hard
negative or two and a balloon with lettering. Close-up and medium shots may hold line art as large
as a close-up face that is not one (:func:`raypipe.testing.drawn_negatives.close_up_negative`:
the back of a head, shoulders and clothing, a hand) behind or beside the faces, and a close-up
may show only such art, with no face. Each face is a character crop (or, for
:data:`SIMPLE_FACES` of them, a face drawn in a few strokes) printed in a manga style
(:data:`raypipe.testing.drawn_styles.MANGA_STYLES`). The truth is where each face was pasted
(its crop less :data:`raypipe.testing.drawn_training_pages.FACE_INSET` of each side), never
a detector's output.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from raypipe.testing.comic_drawing import ComicPage, draw_balloon, grid_polygons
from raypipe.testing.drawn_backgrounds import background, paste
from raypipe.testing.drawn_negatives import close_up_negative, hard_negative
from raypipe.testing.drawn_styles import MANGA_STYLES, print_style, screentone, simple_face, to_grey
from raypipe.testing.drawn_training_pages import FACE_INSET

#: Shots of a panel: (share of the panels, faces at most, face side as a share of the panel's
#: short side).
SHOTS = {
    "close-up": (0.35, 1, (0.45, 0.85)),
    "medium": (0.4, 2, (0.18, 0.4)),
    "long": (0.25, 3, (0.07, 0.18)),
}
#: The smallest face pasted (pixels).
MIN_FACE = 24
#: Share of the faces drawn in a few strokes (:func:`raypipe.testing.drawn_styles.simple_face`).
SIMPLE_FACES = 0.15
#: Share of the close-ups that show a close-up negative instead of a face (no truth box).
NEGATIVE_INSTEAD = 0.2
#: Share of the other close-ups and medium shots with a close-up negative behind or beside the faces.
NEGATIVE_BESIDE = 0.4


def manga_print_pages(
    characters: dict[str, list[Path]],
    n_pages: int,
    seed: int = 0,
    size: tuple[int, int] = (1000, 1400),
) -> list[ComicPage]:
    """``n_pages`` pages of ``characters`` (``name -> crop files``), reproducible from ``seed``."""
    rng = np.random.default_rng(seed)
    crops = {
        name: [_read_rgb(path) for path in paths] for name, paths in sorted(characters.items())
    }
    return [manga_print_page(crops, rng, size) for _ in range(n_pages)]


def manga_print_page(
    crops: dict[str, list[np.ndarray]],
    rng: np.random.Generator,
    size: tuple[int, int] = (1000, 1400),
) -> ComicPage:
    """One page (width, height = ``size``) of RGB ``crops`` per character."""
    width, height = size
    grey = np.full((height, width), 255.0, np.float32)
    page = ComicPage(np.empty((height, width, 3), np.uint8), "manga-print")
    polygons = grid_polygons(width, height, rng, slant=False, right_to_left=True)
    every_crop = [crop for name in sorted(crops) for crop in crops[name]]
    rooms = []
    for polygon in polygons:
        x1, y1 = np.floor(polygon.min(axis=0)).astype(int)
        x2, y2 = np.ceil(polygon.max(axis=0)).astype(int)
        panel = (max(x1, 0), max(y1, 0), min(x2, width), min(y2, height))
        page.panels.append(panel)
        rooms.append(_fill_panel(grey, page, panel, rng, crops, every_crop))
    grey = _scanned(grey, rng)
    page.image[:] = cv2.cvtColor(grey, cv2.COLOR_GRAY2RGB)
    for polygon, (room, taken) in zip(polygons, rooms):
        cv2.polylines(
            page.image,
            [np.round(polygon).astype(np.int32)],
            True,
            (0, 0, 0),
            int(rng.integers(2, 5)),
        )
        draw_balloon(page, room, taken, rng)
    return page


def _fill_panel(grey: np.ndarray, page: ComicPage, panel, rng: np.random.Generator, crops, every_crop) -> tuple:
    """Art and faces of one shot in ``panel`` (in place; faces from ``crops`` by character, other
    art from ``every_crop``); returns the room inside its border and the boxes taken there, for
    the balloon."""
    x1, y1, x2, y2 = panel
    view = grey[y1:y2, x1:x2]
    view[:] = _panel_background(view.shape, rng, every_crop)
    short = min(view.shape)
    for _ in range(int(rng.integers(0, 3))):  # on a square part of the panel, as it draws
        top, left = (
            int(rng.integers(view.shape[0] - short + 1)),
            int(rng.integers(view.shape[1] - short + 1)),
        )
        hard_negative(view[top : top + short, left : left + short], rng)
    shot = rng.choice(list(SHOTS), p=[shot[0] for shot in SHOTS.values()])
    _, most, (low, high) = SHOTS[shot]
    room, taken = (x1 + 6, y1 + 6, x2 - 6, y2 - 6), []
    alone = shot == "close-up" and rng.random() < NEGATIVE_INSTEAD
    if alone or (shot != "long" and rng.random() < NEGATIVE_BESIDE):
        _paste_negative(view, int(rng.uniform(*SHOTS["close-up"][2]) * short), rng, every_crop)
    if alone:
        return room, taken
    for _ in range(int(rng.integers(1, most + 1))):
        side = max(MIN_FACE, int(rng.uniform(low, high) * short))
        face = _printed_face(side, rng, crops)
        h, w = face.shape
        if w >= view.shape[1] - 12 or h >= view.shape[0] - 12:
            continue
        for _ in range(20):
            fx, fy = (
                int(rng.integers(6, view.shape[1] - w - 5)),
                int(rng.integers(6, view.shape[0] - h - 5)),
            )
            box = (x1 + fx, y1 + fy, x1 + fx + w, y1 + fy + h)
            if all(
                box[2] <= t[0] or t[2] <= box[0] or box[3] <= t[1] or t[3] <= box[1] for t in taken
            ):
                break
        else:
            continue
        paste(view, face, rng, max(view.shape) + 1, (fx, fy))
        taken.append(box)
        dx, dy = FACE_INSET * w, FACE_INSET * h
        page.faces.append((box[0] + dx, box[1] + dy, box[2] - dx, box[3] - dy))
    return room, taken


def _paste_negative(view: np.ndarray, side: int, rng: np.random.Generator, every_crop: list[np.ndarray]) -> None:
    """A close-up negative ``side`` wide, printed in a manga style, somewhere in ``view`` (cut by
    the panel's border when too large)."""
    piece = print_style(close_up_negative(max(side, 16), rng, every_crop), rng, MANGA_STYLES)
    piece = np.ascontiguousarray(piece[: view.shape[0] - 2, : view.shape[1] - 2])
    h, w = piece.shape
    at = (int(rng.integers(0, view.shape[1] - w)), int(rng.integers(0, view.shape[0] - h)))
    paste(view, piece, rng, max(view.shape) + 1, at)


def _panel_background(shape: tuple[int, int], rng: np.random.Generator, every_crop: list[np.ndarray]) -> np.ndarray:
    """Paper with a few pen strokes, a manga-like background or a screentone fill (float32)."""
    h, w = shape
    kind = rng.choice(["paper", "background", "tone"], p=[0.45, 0.35, 0.2])
    if kind == "background":
        return cv2.resize(background(min(512, max(h, w)), rng, every_crop), (w, h))
    art = np.full((h, w), 255.0, np.float32)
    if kind == "tone":
        art[:] = 255 * (1 - screentone((h, w), rng))
    for _ in range(int(rng.integers(2, 8))):
        p1, p2 = (
            (int(rng.integers(0, w)), int(rng.integers(0, h))),
            (int(rng.integers(0, w)), int(rng.integers(0, h))),
        )
        cv2.line(art, p1, p2, 0.0, int(rng.integers(1, 4)), cv2.LINE_AA)
    return art


def _printed_face(side: int, rng: np.random.Generator, crops) -> np.ndarray:
    """A face ``side`` pixels wide, printed in a manga style (float32 grey), mirrored half the time."""
    if rng.random() < SIMPLE_FACES:
        crop = simple_face(160, rng)
    else:
        name = sorted(crops)[int(rng.integers(len(crops)))]
        crop = crops[name][int(rng.integers(len(crops[name])))]
    height = max(8, int(side * crop.shape[0] / crop.shape[1]))
    face = print_style(
        to_grey(cv2.resize(crop, (side, height), interpolation=cv2.INTER_AREA)), rng, MANGA_STYLES
    )
    return np.ascontiguousarray(face[:, ::-1] if rng.random() < 0.5 else face)


def _scanned(grey: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The printed page scanned: sometimes resampled, then JPEG (uint8)."""
    if rng.random() < 0.5:
        h, w = grey.shape
        small = cv2.resize(
            grey,
            None,
            fx=rng.uniform(0.6, 0.9),
            fy=rng.uniform(0.6, 0.9),
            interpolation=cv2.INTER_AREA,
        )
        grey = cv2.resize(small, (w, h))
    image = np.clip(grey, 0, 255).astype(np.uint8)
    _, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(50, 90))])
    return cv2.imdecode(jpeg, cv2.IMREAD_GRAYSCALE)


def _read_rgb(path: Path) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
