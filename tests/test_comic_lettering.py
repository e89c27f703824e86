"""Lettering (text regions) and panels on drawn pages whose truth is how they were drawn, and on
a few real manga pages (../shared/data/manga_pages)."""

from __future__ import annotations

from itertools import islice

import cv2
import numpy as np
import pytest

from bench.manga_pages import MANGA, REPORTING_TITLE, TUNING_TITLE, pages, score_title
from raypipe.comic.lettering import glyph_blocks
from raypipe.comic.page_model import load_net
from raypipe.comic.panels import extract_panels
from raypipe.comic.text import detect_balloons, detect_text_regions
from raypipe.evaluation.comic import box_scores
from raypipe.evaluation.detection import box_iou

HEIGHT, WIDTH = 1170, 830
GLYPH = 17  # pixels, about what the real pages' lettering measures


def draw_column(page: np.ndarray, x: int, y: int, glyphs: int) -> tuple[int, int, int, int]:
    """A vertical column of ``glyphs`` black glyph-like marks (a cross and a dot, like a kanji's
    strokes) from (x, y), drawn on ``page``; returns the column's ink extent (x1, y1, x2, y2)."""
    marks = np.zeros(page.shape[:2], np.uint8)
    for i in range(glyphs):
        top = y + i * (GLYPH + 5)
        cv2.line(marks, (x, top + GLYPH // 2), (x + GLYPH, top + GLYPH // 2), 255, 2)
        cv2.line(marks, (x + GLYPH // 2, top), (x + GLYPH // 2, top + GLYPH), 255, 2)
        cv2.rectangle(marks, (x + 2, top + 2), (x + 5, top + 5), 255, -1)
    page[marks > 0] = 0
    ys, xs = np.nonzero(marks)
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def contains(box, inner) -> bool:
    return box[0] <= inner[0] and box[1] <= inner[1] and box[2] >= inner[2] and box[3] >= inner[3]


def art_page() -> np.ndarray:
    """White paper with one bordered panel of grey art (grey noise, strokes on its right half)."""
    rng = np.random.default_rng(1)
    page = np.full((HEIGHT, WIDTH, 3), 255, np.uint8)
    page[600:1100, 60:770] = rng.integers(120, 180, (500, 710, 1)).astype(np.uint8)
    for _ in range(25):  # strokes on the right half of the panel
        x1, y1 = int(rng.integers(480, 700)), int(rng.integers(600, 950))
        cv2.line(page, (x1, y1), (x1 + int(rng.integers(-60, 60)), y1 + 150), (20, 20, 20), 3)
    cv2.rectangle(page, (60, 600), (770, 1100), (0, 0, 0), 3)
    return page


def test_a_column_of_glyphs_on_the_art_without_a_balloon_is_text():
    page = art_page()
    column = draw_column(page, 400, 120, 6)
    assert detect_balloons(page) == []  # no balloon holds it
    found = detect_text_regions(page)
    assert len(found) == 1 and contains(found[0], column)
    x1, y1, x2, y2 = found[0]
    assert x2 - x1 >= 0.06 * HEIGHT - 1 and y2 - y1 < 0.2 * HEIGHT  # the smallest box, not the page


def test_glyph_columns_on_grey_tone_are_not_text():
    page = art_page()
    draw_column(page, 200, 700, 6)  # inside the grey art, clear of its strokes
    assert detect_text_regions(page) == []


def test_columns_in_two_touching_balloons_are_two_blocks():
    page = np.full((HEIGHT, WIDTH, 3), 255, np.uint8)
    left, right = draw_column(page, 380, 300, 5), draw_column(page, 408, 300, 5)
    cv2.line(page, (403, 150), (403, 500), (0, 0, 0), 2)  # the balloons' shared outline
    extents = [block.extent for block in glyph_blocks(page) if block.pieces >= 5]
    assert sorted(extents) == [left, right]
    page[:, 401:406] = 255  # no outline: the columns (8 px apart) are one block of text
    assert [block.extent for block in glyph_blocks(page) if block.pieces >= 5] == [
        (left[0], left[1], right[2], right[3])
    ]


def balloon_page(axes: tuple[int, int] = (45, 65), grey_outline: bool = False) -> np.ndarray:
    """White paper, a black panel border and one oval balloon centred at (400, 400); with
    ``grey_outline`` the balloon's outline is a thin line whose ink alternates, every glyph's
    length, between black and grey (a scanned hairline: at the ink threshold it falls apart
    into glyph-sized bits)."""
    page = np.full((HEIGHT, WIDTH, 3), 255, np.uint8)
    cv2.rectangle(page, (60, 60), (770, 1110), (0, 0, 0), 3)
    if not grey_outline:
        cv2.ellipse(page, (400, 400), axes, 0, 0, 360, (0, 0, 0), 3)
        return page
    for start in range(0, 360, 12):
        shade = (0, 0, 0) if start % 24 == 0 else (160, 160, 160)
        cv2.ellipse(page, (400, 400), axes, 0, start, start + 12, shade, 2)
    return page


def test_an_ellipsis_alone_in_a_balloon_is_boxed_as_the_balloons_lettering_area():
    """Three dots are too few and too small to be lettering on their own; centred in a balloon
    they are a line of text, boxed as the balloon's central area (how annotators box it). They
    are further apart than their own size would join: the page's lettering sets the reach."""
    page = balloon_page()
    draw_column(page, 600, 700, 6)  # lettering elsewhere on the page
    for y in (385, 400, 415):
        cv2.circle(page, (400, y), 3, (0, 0, 0), -1)
    balloons = detect_balloons(page)
    assert len(balloons) == 1
    found = [box for box in detect_text_regions(page, balloons) if box[0] < 500]
    assert len(found) == 1
    x1, y1, x2, y2 = found[0]
    assert abs((x1 + x2) / 2 - 400) <= 2 and abs((y1 + y2) / 2 - 400) <= 2
    assert 0.6 * 90 <= x2 - x1 <= 0.8 * 90 and 0.6 * 130 <= y2 - y1 <= 0.8 * 130
    page[380:421, 395:406] = 255  # an empty balloon holds no text
    assert all(box[0] > 500 for box in detect_text_regions(page))


def test_a_glyph_with_an_ellipsis_makes_a_balloon():
    """One glyph and three small dots: the dots are most of the shapes but little of the ink,
    so the glyph's height, not theirs, is what the shapes are compared with."""
    page = balloon_page()
    draw_column(page, 392, 360, 1)
    for y in (395, 410, 425):
        cv2.circle(page, (400, y), 2, (0, 0, 0), -1)
    assert len(detect_balloons(page)) == 1


def test_a_hairline_balloon_outline_does_not_join_the_lettering_inside():
    """Bits of a grey-and-black outline are glyph-sized at the ink threshold; traced as one line
    they neither join the column nor count as glyphs."""
    page = balloon_page(axes=(70, 130), grey_outline=True)
    column = draw_column(page, 392, 310, 8)
    found = detect_text_regions(page, [])
    assert len(found) == 1 and contains(found[0], column)
    assert found[0][2] - found[0][0] < 140 and found[0][3] - found[0][1] < 260  # not the balloon
    lettering = [block for block in glyph_blocks(page) if block.pieces >= 8]
    assert [block.extent for block in lettering] == [column]


def stacked_panels_sharing_a_broken_line() -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:
    """A bordered frame of textured art cut in two by a border line with a 40-pixel break (a
    balloon or a character crossing it), no gutter between the two panels."""
    rng = np.random.default_rng(2)
    page = np.full((HEIGHT, WIDTH, 3), 255, np.uint8)
    page[60:1110, 50:780] = rng.integers(150, 230, (1050, 730, 1)).astype(np.uint8)
    cv2.rectangle(page, (50, 60), (780, 1110), (0, 0, 0), 3)
    cv2.line(page, (50, 500), (780, 500), (0, 0, 0), 3)
    page[495:506, 400:440] = 200  # the break
    return page, [(50, 60, 781, 500), (50, 501, 781, 1111)]


def test_panels_sharing_a_border_line_broken_by_a_balloon_come_apart():
    page, truth = stacked_panels_sharing_a_broken_line()
    found = [panel.box for panel in extract_panels(page)]
    assert len(found) == 2
    assert (box_iou(np.array(truth, float), np.array(found, float)).max(axis=1) >= 0.9).all()
    assert len(extract_panels(page, line_reach=0)) == 1  # what lengthening the lines fixes


def test_a_full_width_panel_between_two_bordered_ones_is_its_art_not_the_margins():
    """A borderless panel bleeding off both sides of the page, touching the borders of the
    bordered panels above and below it: the region between their border lines reaches round
    their ends into the page margins, and is shrunk back to the art."""
    rng = np.random.default_rng(4)
    page = np.full((HEIGHT, WIDTH, 3), 255, np.uint8)
    page[452:800, :] = rng.integers(100, 200, (348, WIDTH, 1)).astype(np.uint8)
    truth = [(60, 80, 771, 451), (0, 452, WIDTH, 800), (60, 800, 771, 1111)]
    for x1, y1, x2, y2 in (truth[0], truth[2]):
        page[y1:y2, x1:x2] = rng.integers(100, 200, (y2 - y1, x2 - x1, 1)).astype(np.uint8)
        cv2.rectangle(page, (x1, y1), (x2 - 1, y2 - 1), (0, 0, 0), 3)
    found = [panel.box for panel in extract_panels(page, right_to_left=True)]
    assert len(found) == 3
    assert (box_iou(np.array(truth, float), np.array(found, float)).max(axis=1) >= 0.9).all()


def test_a_borderless_panel_bleeding_off_two_page_edges_is_one_panel():
    rng = np.random.default_rng(3)
    page = np.full((HEIGHT, WIDTH, 3), 255, np.uint8)
    page[50:500, 50:780] = rng.integers(100, 200, (450, 730, 1)).astype(np.uint8)
    cv2.rectangle(page, (50, 50), (780, 500), (0, 0, 0), 3)
    page[540:, :780] = rng.integers(100, 200, (HEIGHT - 540, 780, 1)).astype(np.uint8)
    truth = [(50, 50, 781, 501), (0, 540, 780, HEIGHT)]
    found = [panel.box for panel in extract_panels(page, right_to_left=True)]
    assert len(found) == 2
    assert (box_iou(np.array(truth, float), np.array(found, float)).max(axis=1) >= 0.9).all()


@pytest.mark.shared
def test_real_manga_pages_panels_and_text_found_at_iou_half():
    """Three pages of each title, scored as bench/manga_pages.py scores them; floors well below
    what these pages measure."""
    if not (MANGA / "annotation.json").exists():
        pytest.skip(f"needs {MANGA}")
    found_panels, found_text, true_panels, true_text = [], [], [], []
    for title in (TUNING_TITLE, REPORTING_TITLE):
        for path, panels, texts in islice(pages(MANGA, title), 2, 5):
            rgb = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
            balloons = detect_balloons(rgb)
            found_panels.append([p.box for p in extract_panels(rgb, True, text_boxes=balloons)])
            found_text.append(detect_text_regions(rgb, balloons))
            true_panels.append(panels)
            true_text.append(texts)
    panel_scores, text_scores = (
        box_scores(found_panels, true_panels),
        box_scores(found_text, true_text),
    )
    # measured here: panels 0.85 / 0.96, text 0.95 / 0.95 (recall / precision)
    assert panel_scores["recall"] >= 0.55 and panel_scores["precision"] >= 0.7, panel_scores
    assert text_scores["recall"] >= 0.7 and text_scores["precision"] >= 0.7, text_scores


@pytest.mark.shared
def test_held_out_manga_title_keeps_its_default_panel_and_text_figures():
    """All 38 pages of the title neither the rules nor the shipped page model (synthetic pages
    only) was fitted on, scored as bench/manga_pages.py scores the default (the learned model's
    panels, the rules' lettering): lettering recall >= 0.85 (the issue's target; measured
    0.885 / 0.946) and panels near what was measured (0.963 / 0.968 with the panels4b default,
    docs/manga-pages.md)."""
    if not (MANGA / "annotation.json").exists():
        pytest.skip(f"needs {MANGA}")
    scores = score_title(MANGA, REPORTING_TITLE, load_net())
    assert scores["rules"]["text"]["recall"] >= 0.85 and scores["rules"]["text"]["precision"] >= 0.9, scores
    panels = scores["learned"]["panels"]
    assert panels["recall"] >= 0.94 and panels["precision"] >= 0.94, panels
