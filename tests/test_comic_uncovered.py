"""Faces on a part of a comic page that no found panel covers are searched too (issue 25).

Pages are drawn here (few-stroke faces pasted where the test says); truth is where each face
was pasted. The panel finder is replaced by one that misses a region, so that what is tested is
the search of the uncovered area, not the finder.
"""

from __future__ import annotations

import cv2
import numpy as np
import pandas as pd
import pytest

from raypipe.cli import main
from raypipe.comic import split
from raypipe.comic.panels import Panel
from raypipe.comic.split import PageText, detect_in_panels, has_room_outside, split_page
from raypipe.detect import DETECTORS
from raypipe.detect.base import Detector, Face
from raypipe.evaluation.comic import centre_claims
from raypipe.ids import OUTSIDE_PANELS
from raypipe.testing.drawn_styles import simple_face
from tests.conftest import REPO

NO_TEXT = PageText([], [])
#: The left half of a 1000 x 700 page, bordered: the only panel the stubbed finder finds.
LEFT_PANEL = (0, 0, 500, 700)


@pytest.fixture(scope="module")
def detector():
    return DETECTORS.build("drawn-faces")


@pytest.fixture
def finder_misses_the_right_half(monkeypatch):
    """The panel finder finds the left half only (a borderless right half, as on sample/comic)."""
    monkeypatch.setattr(split, "find_panels", lambda *args, **kwargs: [Panel(0, LEFT_PANEL)])


def _page_with_faces(seed: int) -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:
    """A 1000 x 700 page: a bordered panel on the left half and a borderless picture on the
    right, a 200-px drawn face in each; the pasted face boxes (left first)."""
    rng = np.random.default_rng(seed)
    page = np.full((700, 1000, 3), 255, np.uint8)
    cv2.rectangle(page, (20, 20), (480, 680), (0, 0, 0), 4)
    faces = [(150, 250, 350, 450), (650, 250, 850, 450)]
    for x1, y1, x2, y2 in faces:
        page[y1:y2, x1:x2] = simple_face(x2 - x1, rng)
    return page, faces


def test_a_face_where_the_finder_missed_a_panel_is_found_outside_the_panels(
    detector, finder_misses_the_right_half
):
    for seed in range(4):
        page, (left, right) = _page_with_faces(seed)
        found = detect_in_panels(split_page(page, text=NO_TEXT), detector)
        claims = centre_claims([face.box for _, face in found], [left, right])
        panels = {claim: panel for claim, (panel, _) in zip(claims, found)}
        assert panels == {0: 0, 1: OUTSIDE_PANELS}, (seed, found)  # one each: no double face


def test_the_uncovered_crop_is_the_last_one_and_not_a_panel(finder_misses_the_right_half):
    page, _ = _page_with_faces(0)
    crops = split_page(page, text=NO_TEXT)
    assert [(c.index, c.box, c.is_panel) for c in crops] == [
        (0, LEFT_PANEL, True),
        (OUTSIDE_PANELS, (0, 0, 1000, 700), False),
    ]


class _CutFace(Detector):
    """Finds, in a panel crop, the part of a face the panel's border cuts and, on the whole
    page, the whole face (its centre just outside the panel)."""

    def detect(self, image: np.ndarray) -> list[Face]:
        if image.shape[1] == LEFT_PANEL[2]:  # the panel: the face's left part, up to its border
            return [Face((420, 300, 500, 420), 0.9)]
        return [Face((420, 300, 600, 420), 0.9), Face((700, 100, 800, 200), 0.8)]


def test_a_face_cut_by_a_panel_border_is_not_found_twice(finder_misses_the_right_half):
    page = _inked((700, 1000))
    found = detect_in_panels(split_page(page, text=NO_TEXT), _CutFace())
    assert [(panel, face.box) for panel, face in found] == [
        (0, (420, 300, 500, 420)),
        (OUTSIDE_PANELS, (700, 100, 800, 200)),
    ]


def _inked(shape: tuple[int, int]) -> np.ndarray:
    """A white RGB page of ``shape`` hatched all over with thin black lines (ink everywhere)."""
    page = np.full((*shape, 3), 255, np.uint8)
    for x in range(-shape[0], shape[1], 12):
        cv2.line(page, (x, 0), (x + shape[0], shape[0]), (0, 0, 0), 1)
    return page


def test_the_page_is_searched_again_only_where_the_panels_leave_room_for_a_face():
    page = _inked((1400, 1000))  # a 2 x 2 grid, margins 40 px and gutters 30 px: room for no face
    grid = [(40, 40, 485, 685), (515, 40, 960, 685), (40, 715, 485, 1360), (515, 715, 960, 1360)]
    assert not has_room_outside(page, grid)
    assert has_room_outside(page, grid[:3])  # a missed panel
    assert not has_room_outside(page, [(0, 0, 1000, 1400)])  # one whole-page panel
    room = round(split.ROOM_FOR_A_FACE * 1400)  # a margin just wide enough for a face
    assert has_room_outside(page, [(room, 0, 1000, 1400)])
    assert not has_room_outside(page, [(room - 2, 0, 1000, 1400)])


def test_a_blank_margin_is_not_searched_but_a_drawn_one_is():
    page = np.full((1400, 1000, 3), 250, np.uint8)  # off-white paper
    margin = (200, 0, 1000, 1400)  # a 200-px margin left of the one panel found
    assert not has_room_outside(page, [margin])
    cv2.putText(page, "12", (80, 1380), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1)  # a page number
    assert not has_room_outside(page, [margin])
    face = simple_face(120, np.random.default_rng(0))
    page[600:720, 40:160] = face
    assert has_room_outside(page, [margin])


def test_readme_comic_run_finds_faces_outside_the_found_panels_of_the_sample_page(
    tmp_path, ray_session
):
    """The README's comic quick start on the bundled page (36 borderless pictures; the page
    model finds 12 panels covering 58% of it): 19 faces before the uncovered area was searched,
    34 after, in 32 to 34 of the 36 pictures, none twice (the rules' one whole-page panel: 35)."""
    out = tmp_path / "run"
    assert main(["run", str(REPO / "sample" / "comic"), "--out", str(out), "--domain", "comic", "--no-tracking"]) == 0
    faces, panels = pd.read_parquet(out / "faces.parquet"), pd.read_parquet(out / "panels.parquet")
    assert len(faces) >= 32 and (faces.panel_index == OUTSIDE_PANELS).sum() >= 12
    cells = set(zip(((faces.x1 + faces.x2) / 2 * 6 // 1024), ((faces.y1 + faces.y2) / 2 * 6 // 1024)))
    assert len(cells) >= 32  # faces in 32 of the 36 pictures at least (two hold two characters)
    boxes = faces[["x1", "y1", "x2", "y2"]].to_numpy()
    for i, box in enumerate(boxes):  # none found twice: no box lies mostly in another
        assert all(split._smaller_share(box, other) <= split.SAME_FACE for other in boxes[i + 1 :])
    assert (panels.panel_index >= 0).all() and len(panels) < 36
