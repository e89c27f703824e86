"""Marks drawn over synthetic manga pages, and how the page model's training art is split."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from bench.train_page_model import art_images
from bench.train_page_model import main as train_main
from raypipe.comic.page_model import WEIGHTS
from raypipe.testing.manga_layouts import compose_page
from raypipe.testing.manga_marks import draw_balloon, draw_breakout, draw_tall_balloon, screentone


def test_screentone_prints_dark_tones_as_dots_and_leaves_light_ones_paper():
    ramp = np.tile(np.linspace(0, 255, 200).astype(np.uint8), (120, 1))
    printed = screentone(ramp, np.random.default_rng(0))
    assert set(np.unique(printed)) <= {int(printed.min()), 255}  # two inks: black and paper
    dark, light = printed[:, 20:60], printed[:, 170:]
    assert 0.3 < (dark < 128).mean() < 1.0  # dots, not a solid fill
    assert (light < 128).mean() < 0.05


def test_balloon_across_a_panel_border_holds_its_lettering_in_the_page():
    rng = np.random.default_rng(3)
    for _ in range(20):
        grey = np.full((1170, 826), 255, np.uint8)
        x1, y1, x2, y2 = draw_balloon(grey, [(100, 100, 500, 600)], rng)
        assert 0 <= x1 < x2 <= 826 and 0 <= y1 < y2 <= 1170
        assert (grey[y1:y2, x1:x2] < 128).any()  # the glyphs are drawn inside the box


def test_breakout_figure_changes_the_picture_across_the_gutter_but_not_the_truth():
    rng = np.random.default_rng(4)
    art = [np.tile(np.linspace(0, 255, 64).astype(np.uint8), (64, 1))]
    grey = np.full((600, 400), 250, np.uint8)
    draw_breakout(grey, [(20, 20, 190, 580)], art, rng)
    assert (grey != 250).any()
    page = compose_page(art, np.random.default_rng(5), "grid")
    assert page.labels.max() == len(page.panels)  # marks never add a panel to the label map


def test_straight_art_draws_long_lines_inside_panels_and_only_when_asked():
    """Straight lines across the art (doors, poles) are drawn inside the panels, never as new
    panels; at the default share 0 the page is the same as before the option existed."""
    art = [np.full((64, 64), 200, np.uint8)]  # flat light art: only frames and lines are dark

    def long_upright_ink(page):
        inner = np.zeros(page.grey.shape, bool)
        for x1, y1, x2, y2 in page.panels:  # each panel's art less a band along its frame
            inner[y1 + 12 : y2 - 12, x1 + 12 : x2 - 12] = True
        ink = ((page.grey < 80) & inner).astype(np.uint8)
        return cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((60, 1), np.uint8)).sum()

    lined = compose_page(art, np.random.default_rng(6), "grid", straight_art=1.0)
    plain = compose_page(art, np.random.default_rng(6), "grid")
    assert long_upright_ink(lined) > 0 and long_upright_ink(plain) == 0
    assert lined.labels.max() == len(lined.panels)
    again = compose_page(art, np.random.default_rng(6), "grid", straight_art=0.0)
    assert np.array_equal(again.grey, plain.grey)


def test_tall_balloon_hangs_from_the_top_frame_breaking_it_and_holds_its_lettering():
    grey = np.full((1170, 826), 250, np.uint8)
    cv2.rectangle(grey, (100, 300), (600, 900), 0, 3)
    x1, y1, x2, y2 = draw_tall_balloon(grey, (100, 300, 600, 900), np.random.default_rng(2))
    assert 100 <= x1 < x2 <= 600 and (grey[y1:y2, x1:x2] < 128).any()  # lettering inside it
    frame = grey[299:302, x1:x2]
    assert (frame >= 250).all(axis=0).mean() > 0.5  # the top frame is broken where it hangs
    inside = grey[400:800, x1:x2] == 255
    assert inside.mean() > 0.3  # a white band down most of the panel


def test_fragment_art_changes_the_pictures_of_panels_never_the_truth():
    """Seams between two scenes and tall balloons change the picture only: each panel stays one
    piece of the label map, filling its box; at share 0 the page is as before."""
    art = [np.tile(np.linspace(0, 255, 64).astype(np.uint8), (64, 1)), np.full((64, 64), 90, np.uint8)]
    cut = compose_page(art, np.random.default_rng(7), "grid", fragment_art=1.0)
    plain = compose_page(art, np.random.default_rng(7), "grid")
    assert cut.labels.max() == len(cut.panels)
    for k, (x1, y1, x2, y2) in enumerate(cut.panels, 1):
        count, _ = cv2.connectedComponents((cut.labels == k).astype(np.uint8))
        assert count == 2 and (cut.labels[y1:y2, x1:x2] == k).mean() > 0.9
    assert not np.array_equal(cut.grey, plain.grey)
    again = compose_page(art, np.random.default_rng(7), "grid", fragment_art=0.0)
    assert np.array_equal(again.grey, plain.grey)


def test_training_and_validation_art_are_disjoint_and_cover_the_files(tmp_path):
    for i in range(10):  # each file's pixels carry its index
        cv2.imwrite(str(tmp_path / f"{i:02d}.png"), np.full((8, 8), 20 * i, np.uint8))
    rng = np.random.default_rng(0)
    training = {int(a[0, 0]) // 20 for a in art_images([tmp_path], 10, rng)}
    validation = {int(a[0, 0]) // 20 for a in art_images([tmp_path], 10, rng, part="validation")}
    assert validation == {0, 5} and training == set(range(10)) - validation


def test_training_refuses_real_titles_into_the_shipped_weights(monkeypatch):
    monkeypatch.setattr("sys.argv", ["train", "--fit", "tencho_isoro", "--out", str(WEIGHTS)])
    with pytest.raises(SystemExit) as exit_info:
        train_main()
    assert exit_info.value.code == 2
