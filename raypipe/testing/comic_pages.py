"""Composed comic pages with ground truth, for tests and benchmarks (no labelled comic set exists).

A page is a grid of panels (rows of 1-3 panels) in one of :data:`LAYOUTS`, each panel filled
with a flat colour and some scenery strokes, one or two real character crops pasted in, and a
speech balloon with lettering. The truth kept with the page: panel boxes in reading order, the
whole pasted region of each character crop (what was drawn, independent of any detector) with
its character, and balloon boxes. Character crops are read from a folder of
``<character>/<image>`` files given by the caller (the project ships none); tuning and
reporting use disjoint characters (:func:`split_characters`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from raypipe.io.inputs import IMAGE_EXTENSIONS
from raypipe.testing.comic_drawing import BLACK, WHITE, ComicPage, draw_panel, grid_polygons

#: white-gutters: bordered panels on white; borderless: flat-colour art on white, no borders;
#: black-gutters: panels on a black page; slanted: bordered panels with slanted gutters;
#: full-bleed: one picture covering the page (its one panel is the page).
LAYOUTS = ("white-gutters", "borderless", "black-gutters", "slanted", "full-bleed")


def load_characters(root: str | Path) -> dict[str, list[Path]]:
    """Image files of each character folder under ``root`` (``root/<character>/<image>``)."""
    crops = {
        folder.name: sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS)
        for folder in sorted(Path(root).iterdir())
        if folder.is_dir()
    }
    return {name: paths for name, paths in crops.items() if paths}


def split_characters(
    characters: dict[str, list[Path]],
) -> tuple[dict[str, list[Path]], dict[str, list[Path]]]:
    """``(fit, held_out)``: alternate characters in name order, so that settings tuned on the
    first are reported on characters they never saw."""
    names = sorted(characters)
    return (
        {name: characters[name] for name in names[0::2]},
        {name: characters[name] for name in names[1::2]},
    )


def compose_pages(
    characters: dict[str, list[Path]],
    n_pages: int,
    seed: int = 0,
    right_to_left: bool = False,
    size: tuple[int, int] = (1000, 1400),
) -> list[ComicPage]:
    """``n_pages`` pages cycling through :data:`LAYOUTS`, reproducible from ``seed``."""
    rng = np.random.default_rng(seed)
    return [
        compose_page(characters, LAYOUTS[i % len(LAYOUTS)], rng, right_to_left, size)
        for i in range(n_pages)
    ]


def compose_page(
    characters: dict[str, list[Path]],
    layout: str,
    rng: np.random.Generator,
    right_to_left: bool = False,
    size: tuple[int, int] = (1000, 1400),
) -> ComicPage:
    """One page of ``layout`` (width, height = ``size``) with pasted characters and balloons."""
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; choose one of {LAYOUTS}")
    width, height = size
    paper = BLACK if layout == "black-gutters" else WHITE
    page = ComicPage(np.full((height, width, 3), paper, dtype=np.uint8), layout)
    if layout == "full-bleed":
        polygons = [np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float64)]
    else:
        polygons = grid_polygons(
            width, height, rng, slant=layout == "slanted", right_to_left=right_to_left
        )
    for polygon in polygons:
        draw_panel(page, polygon, rng, characters, border=layout in ("white-gutters", "slanted"))
    return page
