"""Drawing a composed comic page: the panel grid, scenery, pasted character crops, balloons.

:mod:`raypipe.testing.comic_pages` composes pages from these; every drawn thing is recorded in
the page's truth (:class:`ComicPage`) as it is drawn.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from raypipe.comic.panels import Box

WHITE = (255, 255, 255)
BLACK = (0, 0, 0)
_LETTERS = "ABCDEFGHIJKLMNOPRSTUWY"


@dataclass
class ComicPage:
    """A composed RGB page and its truth, all boxes in page pixels (x1, y1, x2, y2)."""

    image: np.ndarray
    layout: str
    panels: list[Box] = field(default_factory=list)  # reading order
    faces: list[Box] = field(default_factory=list)  # the whole pasted region of each crop
    characters: list[str] = field(default_factory=list)  # one per face
    texts: list[Box] = field(default_factory=list)


def grid_polygons(
    width: int, height: int, rng: np.random.Generator, slant: bool, right_to_left: bool
) -> list[np.ndarray]:
    """Panel quadrilaterals (4 x 2 corners) of a random grid, in reading order."""
    margin, gutter = int(0.04 * width), int(rng.integers(18, 36))
    n_rows = int(rng.integers(2, 4))
    tilt = (lambda: rng.uniform(-0.08, 0.08)) if slant else (lambda: 0.0)
    # Row dividers: y = offset + slope * x; column dividers: x = offset + slope * y.
    row_cuts = np.linspace(margin, height - margin, n_rows + 1)
    row_lines = (
        [(row_cuts[0], 0.0)] + [(cut, tilt()) for cut in row_cuts[1:-1]] + [(row_cuts[-1], 0.0)]
    )
    polygons = []
    for r in range(n_rows):
        n_cols = int(rng.integers(1, 4))
        weights = rng.uniform(0.7, 1.3, n_cols)
        col_cuts = margin + np.concatenate([[0], np.cumsum(weights) / weights.sum()]) * (
            width - 2 * margin
        )
        col_lines = (
            [(col_cuts[0], 0.0)] + [(cut, tilt()) for cut in col_cuts[1:-1]] + [(col_cuts[-1], 0.0)]
        )
        row = []
        for c in range(n_cols):
            top, bottom = (
                _shift(row_lines[r], gutter / 2 * (r > 0)),
                _shift(row_lines[r + 1], -gutter / 2 * (r < n_rows - 1)),
            )
            left, right = (
                _shift(col_lines[c], gutter / 2 * (c > 0)),
                _shift(col_lines[c + 1], -gutter / 2 * (c < n_cols - 1)),
            )
            row.append(
                np.array(
                    [
                        _corner(left, top),
                        _corner(right, top),
                        _corner(right, bottom),
                        _corner(left, bottom),
                    ]
                )
            )
        polygons.extend(row[::-1] if right_to_left else row)
    return polygons


def _shift(line: tuple[float, float], by: float) -> tuple[float, float]:
    return line[0] + by, line[1]


def _corner(vertical: tuple[float, float], horizontal: tuple[float, float]) -> tuple[float, float]:
    """Where ``x = a + s*y`` meets ``y = b + t*x``."""
    (a, s), (b, t) = vertical, horizontal
    x = (a + s * b) / (1 - s * t)
    return x, b + t * x


def draw_panel(
    page: ComicPage,
    polygon: np.ndarray,
    rng: np.random.Generator,
    characters: dict[str, list[Path]],
    border: bool,
) -> None:
    """Fill ``polygon`` with art, paste characters and a balloon, and record the truth."""
    height, width = page.image.shape[:2]
    corners = np.round(polygon).astype(np.int32)
    inside = np.zeros((height, width), dtype=np.uint8)
    cv2.fillPoly(inside, [corners], 255)
    # Bordered panels are sometimes white inside (manga-like line art): only the border shows them.
    white_inside = border and rng.random() < 0.3
    art = _scenery(height, width, rng, page.layout == "full-bleed", white_inside)
    page.image[inside > 0] = art[inside > 0]
    thickness = int(rng.integers(2, 6)) if border else 0
    if border:
        cv2.polylines(page.image, [corners], True, BLACK, thickness)
    x1, y1 = corners.min(axis=0) - thickness // 2
    x2, y2 = corners.max(axis=0) + thickness // 2 + 1
    page.panels.append(
        (int(max(x1, 0)), int(max(y1, 0)), int(min(x2, width)), int(min(y2, height)))
    )
    # Art goes in the largest axis-aligned box safely inside the (possibly slanted) panel.
    inset = 0.06 * min(x2 - x1, y2 - y1) + thickness + 4
    inner = (
        int(np.sort(corners[:, 0])[1] + inset),
        int(np.sort(corners[:, 1])[1] + inset),
        int(np.sort(corners[:, 0])[2] - inset),
        int(np.sort(corners[:, 1])[2] - inset),
    )
    n_faces = (
        1
        if page.layout != "full-bleed" and (inner[2] - inner[0]) < 1.6 * (inner[3] - inner[1])
        else 2
    )
    taken: list[Box] = []
    for _ in range(n_faces):
        _paste_character(page, inner, taken, rng, characters)
    draw_balloon(page, inner, taken, rng)


def _scenery(
    height: int, width: int, rng: np.random.Generator, gradient: bool, white: bool
) -> np.ndarray:
    """A flat pastel (or ``white``) fill, a vertical gradient for full-bleed pages, with a few
    dark strokes."""
    base = np.full(3, 255) if white else rng.integers(150, 230, 3)
    art = np.empty((height, width, 3), dtype=np.uint8)
    if gradient:
        other = rng.integers(40, 230, 3)
        ramp = np.linspace(0, 1, height)[:, None, None]
        art[:] = (base * (1 - ramp) + other * ramp).astype(np.uint8)
    else:
        art[:] = base
    for _ in range(int(rng.integers(4, 10))):
        p1 = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        p2 = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        shade = tuple(int(v) for v in (base * rng.uniform(0.4, 0.8)))
        cv2.line(art, p1, p2, shade, int(rng.integers(2, 6)))
    return art


def _paste_character(
    page: ComicPage,
    inner: Box,
    taken: list[Box],
    rng: np.random.Generator,
    characters: dict[str, list[Path]],
) -> None:
    """Paste a random crop of a random character into ``inner``, clear of ``taken`` boxes."""
    name = sorted(characters)[int(rng.integers(len(characters)))]
    crop = cv2.imread(
        str(characters[name][int(rng.integers(len(characters[name])))]), cv2.IMREAD_COLOR
    )
    crop = cv2.cvtColor(crop, cv2.COLOR_BGR2RGB)
    room_w, room_h = inner[2] - inner[0], inner[3] - inner[1]
    scale = min(rng.uniform(0.45, 0.7) * room_h / crop.shape[0], 0.45 * room_w / crop.shape[1], 1.6)
    if scale * min(crop.shape[:2]) < 48:
        return
    crop = cv2.resize(
        crop,
        None,
        fx=scale,
        fy=scale,
        interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR,
    )
    box = _free_spot(inner, crop.shape[1], crop.shape[0], taken, rng, bottom=True)
    if box is None:
        return
    page.image[box[1] : box[3], box[0] : box[2]] = crop
    taken.append(box)
    page.faces.append(box)
    page.characters.append(name)


def draw_balloon(page: ComicPage, inner: Box, taken: list[Box], rng: np.random.Generator) -> None:
    """An elliptic white balloon with a black outline and 1-3 lines of capital lettering."""
    font, font_scale, stroke = (
        cv2.FONT_HERSHEY_SIMPLEX,
        float(rng.uniform(0.5, 0.8)),
        int(rng.integers(1, 3)),
    )
    lines = [
        " ".join(
            "".join(rng.choice(list(_LETTERS), int(rng.integers(2, 7))))
            for _ in range(int(rng.integers(1, 3)))
        )
        for _ in range(int(rng.integers(1, 4)))
    ]
    sizes = [cv2.getTextSize(line, font, font_scale, stroke)[0] for line in lines]
    line_h = max(h for _, h in sizes) * 2
    text_w, text_h = max(w for w, _ in sizes), line_h * len(lines)
    box = _free_spot(
        inner, int(text_w * 1.5) + 12, int(text_h * 1.6) + 12, taken, rng, bottom=False
    )
    if box is None:
        return
    centre = ((box[0] + box[2]) // 2, (box[1] + box[3]) // 2)
    axes = ((box[2] - box[0]) // 2 - 2, (box[3] - box[1]) // 2 - 2)
    cv2.ellipse(page.image, centre, axes, 0, 0, 360, WHITE, -1)
    cv2.ellipse(page.image, centre, axes, 0, 0, 360, BLACK, 2)
    top = centre[1] - text_h // 2
    for i, (line, (w, h)) in enumerate(zip(lines, sizes)):
        origin = (centre[0] - w // 2, top + i * line_h + (line_h + h) // 2)
        cv2.putText(page.image, line, origin, font, font_scale, BLACK, stroke, cv2.LINE_AA)
    taken.append(box)
    page.texts.append(box)


def _free_spot(
    inner: Box,
    w: int,
    h: int,
    taken: list[Box],
    rng: np.random.Generator,
    bottom: bool,
    tries: int = 40,
) -> Box | None:
    """A ``w`` x ``h`` box inside ``inner`` that overlaps no ``taken`` box (the lower half of
    the room first when ``bottom``), or None."""
    if w > inner[2] - inner[0] or h > inner[3] - inner[1]:
        return None
    for attempt in range(tries):
        x = int(rng.integers(inner[0], inner[2] - w + 1))
        lowest = inner[3] - h
        y = lowest if bottom and attempt < tries // 2 else int(rng.integers(inner[1], lowest + 1))
        box = (x, y, x + w, y + h)
        if all(
            box[2] + 6 <= t[0] or t[2] + 6 <= box[0] or box[3] + 6 <= t[1] or t[3] + 6 <= box[1]
            for t in taken
        ):
            return box
    return None
