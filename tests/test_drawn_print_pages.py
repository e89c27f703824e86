"""Manga-printed pages: the drawn-face detector's third choosing set (truth = pasted faces)."""

import cv2
import numpy as np
import pytest

from raypipe.testing import manga_print_pages as printed
from raypipe.testing.drawn_negatives import close_up_negative
from raypipe.testing.drawn_styles import MANGA_STYLES, print_style


def solid_crops(folder, shade: int) -> dict:
    """Two character folders of solid crops of ``shade``."""
    for name in ("a", "b"):
        (folder / name).mkdir(parents=True)
        for i in range(2):
            cv2.imwrite(str(folder / name / f"{i}.png"), np.full((120, 100, 3), shade, np.uint8))
    return {name: sorted((folder / name).iterdir()) for name in ("a", "b")}


@pytest.fixture
def black_crops(tmp_path, monkeypatch):
    """Solid black crops and no few-stroke faces: every manga style prints a face dark; panel
    backgrounds made without the crops (the generator's enlarge parts of them)."""
    monkeypatch.setattr(printed, "SIMPLE_FACES", 0.0)
    monkeypatch.setattr(
        printed, "background", lambda size, rng, crops: np.full((size, size), 200.0, np.float32)
    )
    # backs of heads are drawn from the crops: keep the close-up negatives the same for any shade
    monkeypatch.setattr(
        printed, "close_up_negative", lambda side, rng, crops: close_up_negative(side, rng, [])
    )
    return solid_crops(tmp_path / "black", 0)


def test_manga_print_truth_is_where_each_face_was_pasted(black_crops, tmp_path):
    """The same draws with white crops instead of black ones change the page at the true faces
    only: the truth is where the faces were pasted."""
    dark = printed.manga_print_pages(black_crops, 4, seed=3)
    light = printed.manga_print_pages(solid_crops(tmp_path / "white", 255), 4, seed=3)
    assert sum(len(page.faces) for page in dark) >= 12
    for page, other in zip(dark, light):
        assert page.faces == other.faces
        change = np.abs(page.image.astype(int) - other.image).max(axis=2)
        elsewhere = np.ones(change.shape, bool)
        for x1, y1, x2, y2 in np.round(page.faces).astype(int):
            w, h = x2 - x1, y2 - y1
            assert change[y1 + h // 3 : y2 - h // 3, x1 + w // 3 : x2 - w // 3].mean() > 60
            elsewhere[max(y1 - 24, 0) : y2 + 24, max(x1 - 24, 0) : x2 + 24] = False
            assert any(p[0] <= x1 and p[1] <= y1 and x2 <= p[2] and y2 <= p[3] for p in page.panels)
        assert change[elsewhere].mean() < 1.0  # nothing else moved (but scan blur near a face)


def test_manga_print_pages_hold_close_ups_and_small_faces(black_crops):
    pages = printed.manga_print_pages(black_crops, 6, seed=1)
    shares = []
    for page in pages:
        for x1, y1, x2, y2 in page.faces:
            panel = next(
                p for p in page.panels if p[0] <= x1 and p[1] <= y1 and x2 <= p[2] and y2 <= p[3]
            )
            shares.append(
                (x2 - x1) / (1 - 2 * 0.06) / min(panel[2] - panel[0], panel[3] - panel[1])
            )
    assert max(shares) >= 0.45 and min(shares) < 0.18  # close-ups and long shots
    assert all(len(page.texts) >= 1 for page in pages)  # lettered balloons, as a comic run sees


def test_manga_print_pages_are_reproducible_black_and_white_print():
    pages = [
        printed.manga_print_page(
            {"c": [np.full((100, 100, 3), 128, np.uint8)]}, np.random.default_rng(0)
        )
        for _ in range(2)
    ]
    image = pages[0].image
    assert (image[..., 0] == image[..., 1]).all() and (image[..., 1] == image[..., 2]).all()  # grey
    again = printed.manga_print_page(
        {"c": [np.full((100, 100, 3), 128, np.uint8)]}, np.random.default_rng(0)
    )
    assert (again.image == image).all() and again.faces == pages[0].faces


def test_manga_styles_print_no_photographic_grey_or_blur():
    grey = np.tile(np.linspace(0, 255, 200, dtype=np.float32), (50, 1)).astype(np.uint8)
    for seed in range(12):
        out = print_style(grey, np.random.default_rng(seed), MANGA_STYLES)
        assert len(np.unique(np.round(out))) <= 8  # ink, tone dots or a few flat fills, not a ramp


def negative_sides(monkeypatch) -> list[int]:
    """The sides of the close-up negatives the page generator draws from now on (filled as it goes)."""
    sides = []

    def spy(side, rng, crops):
        sides.append(side)
        return close_up_negative(side, rng, [])

    monkeypatch.setattr(printed, "close_up_negative", spy)
    return sides


def test_close_ups_showing_a_negative_instead_of_a_face_add_no_truth_box(black_crops, monkeypatch):
    """Every panel a close-up showing a close-up negative instead of the face: the pages hold no
    face, and each panel got a negative of close-up size (45-85% of its short side)."""
    monkeypatch.setattr(printed, "SHOTS", {"close-up": (1.0, 1, (0.45, 0.85))})
    monkeypatch.setattr(printed, "NEGATIVE_INSTEAD", 1.0)
    sides = negative_sides(monkeypatch)
    pages = printed.manga_print_pages(black_crops, 2, seed=4)
    panels = [panel for page in pages for panel in page.panels]
    assert all(page.faces == [] for page in pages)
    assert len(sides) == len(panels)
    for side, (x1, y1, x2, y2) in zip(sides, panels):
        assert 0.45 <= side / min(x2 - x1, y2 - y1) <= 0.86


def test_close_up_negatives_sit_beside_faces_in_close_ups_and_medium_shots(
    black_crops, monkeypatch
):
    """With the shares as shipped, some panels with faces also get a close-up negative, and the
    faces keep their truth boxes."""
    sides = negative_sides(monkeypatch)
    pages = printed.manga_print_pages(black_crops, 6, seed=1)
    panels = sum(len(page.panels) for page in pages)
    assert 0.1 * panels <= len(sides) <= 0.6 * panels
    assert sum(len(page.faces) for page in pages) >= panels * 0.8
