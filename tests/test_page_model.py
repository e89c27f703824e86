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
    learned_boxes,
    load_net,
    predict_maps,
    save_weights,
    snapped_panels,
)
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


def test_saved_weights_reload_to_the_same_outputs(tmp_path):
    net = PageNet().eval()
    save_weights(net, tmp_path / "w.npz")
    grey = np.random.default_rng(0).integers(0, 255, (300, 200), dtype=np.uint8)
    assert np.allclose(predict_maps(grey, net)[0], predict_maps(grey, load_net(tmp_path / "w.npz"))[0])


@pytest.mark.parametrize("layout", ["borderless", "overlap"])
def test_learned_model_splits_irregular_pages_into_their_panels(layout):
    """Ten synthetic pages of the layout the rules miss, drawn with art the model never saw
    (procedural strokes): most true panels found at IoU 0.5, few false ones."""
    rng = np.random.default_rng(7)
    art = drawn_art(20, rng)
    found, truth = [], []
    for _ in range(10):
        page = compose_page(art, rng, layout)
        found.append(learned_boxes(np.repeat(page.grey[:, :, None], 3, axis=2))[0])
        truth.append(page.panels)
    scores = box_scores(found, truth)
    assert scores["recall"] >= 0.7 and scores["precision"] >= 0.7, scores


def test_snapping_keeps_the_models_panels_and_the_rules_edges():
    learned = [(0, 0, 100, 100), (200, 0, 300, 100)]
    rules = [(2, 1, 99, 102), (0, 0, 300, 100)]  # one close match, one whole-row box
    assert snapped_panels(learned, rules) == [(2, 1, 99, 102), (200, 0, 300, 100)]
    assert snapped_panels(learned, []) == learned
