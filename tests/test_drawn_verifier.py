"""The verifier of the drawn-face detector's candidate boxes (``drawn-faces``, ``verifier``)."""

import json
import logging

import cv2
import numpy as np
import pytest

from raypipe.detect import DETECTORS, drawn
from raypipe.detect.drawn_verifier import (
    VERIFIER,
    DrawnFaceVerifier,
    box_terms,
    save_verifier,
    trained_on,
)
from raypipe.registry import ComponentError
from raypipe.testing.comic_pages import load_characters, split_characters
from raypipe.testing.drawn_negatives import hand, sound_effect
from raypipe.testing.drawn_styles import simple_face
from tests.conftest import need_shared


def _page_of_few_stroke_faces(seed: int = 0) -> np.ndarray:
    rng, page = np.random.default_rng(seed), np.full((1000, 800, 3), 255, np.uint8)
    for row in range(2):
        for col in range(2):
            side, x, y = int(rng.integers(120, 220)), 60 + col * 380, 60 + row * 450
            page[y : y + side, x : x + side] = simple_face(side, rng)
    return page


def test_shipped_verifier_loads_without_pickle_and_records_allowed_training_data():
    with np.load(VERIFIER, allow_pickle=False) as stored:
        assert stored["coef"].shape == (384 + 2,) and stored["intercept"].shape == ()
    record = json.loads(trained_on()["trained_on"])
    assert record["characters"] == ["bae", "calli", "fauna", "gura", "mococo"]
    assert record["seed"] != 0  # the bench's choosing and held-out pages are seed 0
    assert "manga" not in json.dumps(record) and "anime/" not in json.dumps(record)
    assert trained_on()["command"].startswith("python bench/train_drawn_verifier.py")


def test_box_terms_are_the_detector_score_and_the_log_relative_size():
    terms = box_terms(np.array([[0, 0, 50, 100], [10, 10, 210, 60]]), [0.3, 0.7], (400, 200, 3))
    np.testing.assert_allclose(terms, [[0.3, np.log(100 / 400)], [0.7, np.log(200 / 400)]])


@pytest.mark.parametrize(
    "setting", [{"verifier": "yes"}, {"candidate_threshold": 1.5}, {"verifier_threshold": "high"}]
)
def test_a_bad_verifier_setting_is_a_one_line_component_error(setting):
    with pytest.raises(ComponentError) as error:
        DETECTORS.build({"name": "drawn-faces", **setting})
    assert "\n" not in str(error.value) and next(iter(setting)) in str(error.value)


def test_without_the_backbone_the_detector_runs_alone_with_the_same_boxes_and_warns_once(
    tmp_path, caplog, monkeypatch
):
    monkeypatch.setattr(drawn, "_warned_no_backbone", False)
    page = _page_of_few_stroke_faces()
    alone = DETECTORS.build({"name": "drawn-faces", "verifier": "none"})
    with caplog.at_level(logging.WARNING, logger="raypipe.detect.drawn"):
        auto = [DETECTORS.build({"name": "drawn-faces", "verifier": "auto", "model_root": str(tmp_path)})
                for _ in range(2)]  # fmt: skip
    assert all(detector.verifier is None for detector in auto)
    assert [r.message.count("no candidate verifier") for r in caplog.records] == [1]
    found, expected = auto[0].detect(page), alone.detect(page)
    assert len(expected) >= 3
    assert [(f.box, f.score) for f in found] == [(f.box, f.score) for f in expected]


@pytest.mark.registry
@pytest.mark.shared
def test_verifier_keeps_drawn_faces_on_paper_and_rejects_hands_and_sound_effects(faceplugin_models):
    """Crops of held-out fan-art characters pasted on paper against hand and sound-effect
    negatives of the training generator, each chipped whole at the same detector score (0.5) and size (a third of the image)."""
    held_out = split_characters(load_characters(need_shared("data", "anime_fanart")))[1]
    faces = [cv2.cvtColor(cv2.imread(str(paths[0])), cv2.COLOR_BGR2RGB) for paths in held_out.values()]
    rng, negatives = np.random.default_rng(3), []
    for draw in [hand, sound_effect] * 3:
        canvas = np.full((160, 160), 255.0, np.float32)
        draw(canvas, rng, **({"scale": 45.0, "centre": (80, 80)} if draw is hand else {}))
        negatives.append(cv2.cvtColor(canvas.astype(np.uint8), cv2.COLOR_GRAY2RGB))
    verifier = DrawnFaceVerifier(faceplugin_models / "fr_expression.onnx")

    def probability(chip: np.ndarray) -> float:
        page = np.full((3 * chip.shape[0], 3 * chip.shape[1], 3), 250, np.uint8)
        h, w = chip.shape[:2]
        page[h : 2 * h, w : 2 * w] = cv2.resize(chip, (w, h))
        return float(verifier.probabilities(page, np.array([[w, h, 2 * w, 2 * h]], float), [0.5])[0])

    kept = [probability(face) for face in faces]
    rejected = [probability(negative) for negative in negatives]
    assert min(kept) > 0.5 and max(rejected) < 0.5, (kept, rejected)


@pytest.mark.registry
def test_a_verified_detector_scores_its_faces_by_the_verifier_probability(faceplugin_models):
    page = _page_of_few_stroke_faces()
    verified = DETECTORS.build({"name": "drawn-faces", "verifier": "auto", "model_root": str(faceplugin_models),
                                "candidate_threshold": 0.15, "verifier_threshold": 0.0})  # fmt: skip
    boxes, scores = verified.candidates(page)
    assert len(boxes) and scores.min() >= 0.15
    expected = verified.verifier.probabilities(page, boxes, scores)
    found = verified.detect(page)
    assert found and {round(f.score, 6) for f in found} <= {round(float(p), 6) for p in expected}


@pytest.mark.registry
def test_a_mirrored_verifier_file_makes_the_verifier_average_each_chip_with_its_mirror(faceplugin_models, tmp_path):
    """A file saved with ``mirrored`` describes a centred box of an image and of its mirror image
    alike; an older file without the key describes them apart (the plain features)."""
    coef = np.random.default_rng(0).normal(size=384 + 2)
    save_verifier(tmp_path / "mirrored.npz", coef, 0.0, mirrored=True, trained_on="{}", command="test")
    np.savez(tmp_path / "old.npz", coef=coef, intercept=np.asarray(0.0), trained_on="{}", command="test")
    page = np.full((300, 300, 3), 255, np.uint8)
    page[60:240, 60:240] = simple_face(180, np.random.default_rng(1))
    page[80:140, 70:150] = (200, 30, 30)  # a left-right asymmetric face
    box, mirror = np.array([[60.0, 60.0, 240.0, 240.0]]), np.ascontiguousarray(page[:, ::-1])
    backbone = faceplugin_models / "fr_expression.onnx"
    mirrored, old = DrawnFaceVerifier(backbone, tmp_path / "mirrored.npz"), DrawnFaceVerifier(backbone, tmp_path / "old.npz")
    assert mirrored.mirrored and not old.mirrored
    np.testing.assert_allclose(mirrored.features(page, box, [0.5]), mirrored.features(mirror, box, [0.5]), atol=1e-4)
    assert np.abs(old.features(page, box, [0.5]) - old.features(mirror, box, [0.5])).max() > 0.1
    np.testing.assert_allclose(
        mirrored.features(page, box, [0.5])[:, :384],
        (old.features(page, box, [0.5]) + old.features(mirror, box, [0.5]))[:, :384] / 2, atol=1e-4)  # fmt: skip
