"""The learned page model: its targets, its shipped weights, and panels of irregular layouts."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest

from raypipe.comic.page_model import (
    EDGE,
    INTERIOR,
    PAPER,
    WEIGHTS,
    PageNet,
    class_targets,
    find_panels,
    load_net,
    predict_maps,
    refined_panels,
    save_weights,
    training_manifest,
)
from raypipe.config import Config, ConfigError
from raypipe.detect.boxes import box_iou
from raypipe.evaluation.comic import box_scores
from raypipe.testing.manga_layouts import LAYOUTS, compose_page


def drawn_art(count: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Grey stand-ins for drawn art: strokes, filled shapes and shading on paper."""
    import cv2

    art = []
    for _ in range(count):
        image = np.full((160, 160), int(rng.integers(150, 255)), np.uint8)
        for _ in range(12):
            p, q = rng.integers(0, 160, 2), rng.integers(0, 160, 2)
            if rng.random() < 0.5:
                cv2.line(image, tuple(map(int, p)), tuple(map(int, q)), int(rng.integers(0, 90)), 3)
            else:
                cv2.circle(image, tuple(map(int, p)), int(rng.integers(5, 40)), int(rng.integers(0, 255)), -1)
        art.append(image)
    return art


def test_edge_band_separates_touching_and_overlapping_panels():
    labels = np.zeros((40, 60), np.int32)
    labels[5:35, 5:30] = 1
    labels[5:35, 30:55] = 2  # touches panel 1 with no gutter
    labels[10:20, 20:40] = 3  # laid over both
    classes = class_targets(labels)
    assert (classes[labels == 0] == PAPER).all()
    assert classes[25, 30] == EDGE and classes[25, 29] == EDGE  # the shared border
    assert classes[15, 21] == EDGE  # the inset's outline
    assert classes[28, 15] == INTERIOR and classes[28, 45] == INTERIOR and classes[15, 30] == INTERIOR


def test_synthetic_page_truth_matches_what_is_drawn():
    rng = np.random.default_rng(1)
    for layout in LAYOUTS:
        page = compose_page(drawn_art(6, rng), rng, layout)
        assert page.layout == layout and page.panels
        for k, (x1, y1, x2, y2) in enumerate(page.panels, 1):
            ys, xs = np.nonzero(page.labels == k)
            if len(ys):  # every pixel a panel shows lies in its box
                assert x1 <= xs.min() and xs.max() < x2 and y1 <= ys.min() and ys.max() < y2
        assert all(x2 > x1 and y2 > y1 for x1, y1, x2, y2 in page.lettering)


def test_shipped_weights_are_plain_arrays_and_load():
    with zipfile.ZipFile(WEIGHTS) as archive:  # .npz: one .npy per array, none of them objects
        assert all(name.endswith(".npy") for name in archive.namelist())
    net = load_net()
    grey = np.full((1170, 826), 255, np.uint8)
    classes, text = predict_maps(grey, net)
    assert classes.shape[0] == 3 and np.allclose(classes.sum(0), 1, atol=1e-4)
    assert text.shape == classes.shape[1:]


TRAINABLE = {"anime_fanart", "anime_unlabelled"}  # SOURCES.md: may be trained on; manga_pages may not


def test_shipped_weights_were_trained_on_synthetic_pages_only():
    """The shipped model's manifest (and that of every stage it went on from) names no real
    page: no manga title, only drawn crops that may be trained on."""
    manifest = training_manifest()
    assert manifest, "the shipped page model carries no training manifest"
    while manifest:
        assert manifest["real_titles"] == [], manifest
        assert set(manifest["sources"]) <= TRAINABLE, manifest
        assert not any("manga_pages" in source for source in manifest["sources"])
        manifest = manifest["init"]


def test_saved_weights_reload_to_the_same_outputs_and_manifest(tmp_path):
    net = PageNet().eval()
    save_weights(net, tmp_path / "w.npz", {"sources": ["anime_fanart"], "real_titles": []})
    assert training_manifest(tmp_path / "w.npz") == {"sources": ["anime_fanart"], "real_titles": []}
    grey = np.random.default_rng(0).integers(0, 255, (300, 200), dtype=np.uint8)
    assert np.allclose(predict_maps(grey, net)[0], predict_maps(grey, load_net(tmp_path / "w.npz"))[0])


def irregular_pages(layout: str, count: int = 10) -> list:
    rng = np.random.default_rng(7)
    art = drawn_art(20, rng)
    return [compose_page(art, rng, layout) for _ in range(count)]


def panel_scores(pages: list, method: str) -> dict[str, float]:
    found = [
        [p.box for p in find_panels(np.repeat(page.grey[:, :, None], 3, axis=2), False, [], method)]
        for page in pages
    ]
    return box_scores(found, [page.panels for page in pages])


@pytest.mark.parametrize("layout", ["borderless", "overlap", "full-bleed"])
def test_default_panels_split_irregular_layouts_the_rules_miss(layout):
    """Ten synthetic pages of a layout the rules miss (balloons and figures across the frames),
    drawn with art the model never saw (procedural strokes and shapes): the default (the learned
    model) finds far more of the true panels than the rules (measured recall 0.60 / 0.56 / 0.90
    against 0.08 / 0.32 / 0.48; precision 0.79 / 0.71 / 0.95)."""
    pages = irregular_pages(layout)
    rules, learned = panel_scores(pages, "rules"), panel_scores(pages, "learned")
    assert learned["recall"] >= max(0.38, rules["recall"] + 0.2), (rules, learned)
    assert learned["precision"] >= 0.55, learned


def test_learned_model_splits_full_bleed_pages_into_their_true_panels():
    """Panels running off the page (no paper frame: the rules call the page one panel)."""
    scores = panel_scores(irregular_pages("full-bleed"), "learned")  # measured 0.90 / 0.95
    assert scores["recall"] >= 0.6 and scores["precision"] >= 0.65, scores


def test_hybrid_cuts_merged_rule_panels_at_model_edges_and_adds_missed_ones():
    classes = np.zeros((3, 100, 70), np.float32)
    classes[PAPER] = 1.0
    for x1, y1, x2, y2 in [(5, 5, 33, 60), (37, 5, 65, 60), (5, 70, 65, 95)]:  # model's panels
        classes[:, y1:y2, x1:x2] = 0.0
        classes[INTERIOR, y1:y2, x1:x2] = 1.0
    page = (1000, 700)  # 10 page pixels per map pixel
    rules = [(50, 50, 650, 600)]  # the two top panels as one box; the bottom one missed
    found = sorted(refined_panels(classes, rules, page))
    assert len(found) == 3
    iou = box_iou(np.array([(50, 50, 330, 600), (370, 50, 650, 600), (50, 700, 650, 950)], float),
                  np.array(found, float))
    assert (iou.max(axis=1) >= 0.8).all()
    kept = [(50, 50, 330, 600), (370, 50, 650, 600), (50, 700, 650, 950)]
    assert refined_panels(classes, kept, page) == kept  # rule panels the model agrees with stay
    assert len(refined_panels(classes, rules, page, missed=False)) == 2  # cut, nothing added


def test_unknown_panel_method_is_a_config_error():
    with pytest.raises(ConfigError, match="comic.panels"):
        Config.load(overrides=["comic.panels=magic"])
