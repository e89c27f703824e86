"""Panels of borderless pages with balloons across gutters, and the manga-pages bench's scoring."""

from __future__ import annotations

import json

import cv2
import numpy as np

from bench.manga_pages import score_title, xywh_boxes
from raypipe.comic.panels import extract_panels
from raypipe.comic.text import detect_balloons
from raypipe.evaluation.comic import box_scores
from raypipe.evaluation.detection import box_iou

PANELS = [(40, 40, 390, 500), (410, 40, 760, 500), (40, 520, 760, 1060)]


def borderless_page() -> np.ndarray:
    """White paper, three borderless panels of textured art (20 px gutters) and a lettered
    balloon straddling the gutter between the two top panels."""
    rng = np.random.default_rng(0)
    page = np.full((1100, 800, 3), 255, np.uint8)
    for x1, y1, x2, y2 in PANELS:
        colour = rng.integers(60, 200, 3)
        noise = rng.integers(-40, 40, (y2 - y1, x2 - x1, 1))
        page[y1:y2, x1:x2] = np.clip(colour + noise, 0, 255).astype(np.uint8)
    cv2.ellipse(page, (400, 250), (90, 60), 0, 0, 360, (255, 255, 255), -1)
    cv2.ellipse(page, (400, 250), (90, 60), 0, 0, 360, (0, 0, 0), 3)
    for column in range(4):
        for row in range(3):
            x, y = 352 + 26 * column, 215 + 24 * row
            cv2.rectangle(page, (x, y), (x + 14, y + 16), (0, 0, 0), -1)
    return page


def test_borderless_panels_are_found_when_a_balloon_straddles_their_gutter():
    page = borderless_page()
    balloons = detect_balloons(page)
    found = [p.box for p in extract_panels(page, text_boxes=balloons)]
    assert len(found) == len(PANELS)
    iou = box_iou(np.array(PANELS, np.float64), np.array(found, np.float64))
    assert (iou.max(axis=1) >= 0.9).all()


def test_manga_scoring_counts_matches_at_iou_half():
    assert xywh_boxes([{"x": 5, "y": 6, "w": 10, "h": 20}]) == [(5, 6, 15, 26)]
    truth = [[(0, 0, 100, 100), (200, 0, 300, 100)], [(0, 0, 100, 100)]]
    predicted = [
        [(0, 0, 100, 100), (205, 5, 300, 100), (500, 500, 600, 600)],  # exact, IoU 0.9, stray
        [(0, 0, 100, 40)],  # IoU 0.4: a miss and a false positive
    ]
    scores = box_scores(predicted, truth)
    assert (scores["true_positives"], scores["false_positives"], scores["false_negatives"]) == (
        2,
        2,
        1,
    )
    assert scores["recall"] == 2 / 3 and scores["precision"] == 0.5


def test_manga_bench_reads_only_the_named_title(tmp_path):
    (tmp_path / "pages").mkdir()
    cv2.imwrite(
        str(tmp_path / "pages" / "a.png"), cv2.cvtColor(borderless_page(), cv2.COLOR_RGB2BGR)
    )
    frames = [{"x": x1, "y": y1, "w": x2 - x1, "h": y2 - y1} for x1, y1, x2, y2 in PANELS]
    books = [
        {
            "book_title": "mine",
            "pages": [{"image_paths": {"ja": "pages/a.png"}, "frame": frames, "text": []}],
        },
        {
            "book_title": "other",
            "pages": [{"image_paths": {"ja": "pages/missing.png"}, "frame": [], "text": []}],
        },
    ]
    (tmp_path / "annotation.json").write_text(json.dumps(books), encoding="utf-8")
    scores = score_title(tmp_path, "mine")["rules"]
    assert scores["panels"]["recall"] == 1.0 and scores["panels"]["precision"] == 1.0
    assert scores["text"]["true_positives"] == 0 and scores["text"]["false_positives"] == 1


FRAMED = [(60, 300, 396, 520), (404, 300, 740, 520), (60, 560, 740, 1000)]


def framed_page() -> np.ndarray:
    """Black-framed panels, the top two facing across an 8 px gutter; grey art crosses that
    gutter and breaks both frames, so neither ink nor a paper gutter separates them."""
    page = np.full((1170, 824, 3), 255, np.uint8)
    for x1, y1, x2, y2 in FRAMED:
        cv2.rectangle(page, (x1, y1), (x2 - 1, y2 - 1), (0, 0, 0), 3)
        cv2.line(page, (x1 + 20, (y1 + y2) // 2), (x2 - 20, (y1 + y2) // 2), (90, 90, 90), 2)
    page[400:414, 360:440] = 150
    return page


def test_framed_panels_facing_across_a_crossed_gutter_are_cut_apart():
    page = framed_page()
    found = [p.box for p in extract_panels(page, True)]
    iou = box_iou(np.array(FRAMED, np.float64), np.array(found, np.float64))
    assert len(found) == len(FRAMED) and (iou.max(axis=1) >= 0.9).all()
    merged = [p.box for p in extract_panels(page, True, max_gutter=0.0)]
    assert len(merged) == len(FRAMED) - 1  # without the cut between facing frames: one box
