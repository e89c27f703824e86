"""The drawn-face encoders (DenseNet + shipped projection, the small shipped CNN) and the
drawn-face default (embedder + clusterer without k)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from raypipe.cluster import CLUSTERERS
from raypipe.detect.base import Face
from raypipe.embed import EMBEDDERS
from raypipe.embed.select import drawn_embedder, resolve_embedder
from raypipe.evaluation.metrics import score_clustering
from raypipe.features.drawn import REPORTING_CHARACTERS, WEIGHTS, DrawnFaceEncoder, load_weights
from tests.conftest import need_shared


def _crop(colour, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    crop = np.full((80, 80, 3), colour, np.uint8)
    crop[20:60, 25:55] = rng.integers(0, 255, (40, 30, 3), dtype=np.uint8)
    return crop


def test_shipped_weights_load_without_pickle_and_embed_deterministically():
    arrays, size, width = load_weights(WEIGHTS)  # np.load(allow_pickle=False) inside
    assert size > 0 and width > 0 and arrays
    crops = [_crop((200, 40, 40), 0), _crop((40, 40, 200), 1)]
    first = DrawnFaceEncoder().transform(crops)
    again = DrawnFaceEncoder().transform(crops)
    np.testing.assert_array_equal(first, again)
    np.testing.assert_allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-5)
    untrained = DrawnFaceEncoder(weights=None, size=size, width=width).transform(crops)
    assert not np.allclose(first, untrained), "the shipped weights were not loaded"


def test_comic_domain_without_the_backbone_embeds_with_the_small_shipped_cnn(tmp_path):
    spec = resolve_embedder({"name": "auto"}, str(tmp_path), domain="comic")
    embedder = EMBEDDERS.build(spec)
    assert embedder.model_name == "feature:drawn"
    chip = embedder.align(_crop((90, 160, 90), 2), _whole_face())
    assert embedder.embed(chip[None]).shape == (1, embedder.dim)


@pytest.mark.registry
def test_comic_domain_embeds_with_the_densenet_encoder_when_its_backbone_is_there(faceplugin_models):
    spec = resolve_embedder({"name": "auto"}, str(faceplugin_models), domain="comic")
    embedder = EMBEDDERS.build(spec)
    assert embedder.model_name == "feature:drawn-densenet"
    chips = np.stack([embedder.align(_crop(colour, i), _whole_face()) for i, colour in enumerate(((200, 40, 40), (40, 40, 200)))])
    assert embedder.extractor._runner is None  # building and aligning never load the backbone
    X = embedder.embed(chips)
    np.testing.assert_array_equal(X, embedder.embed(chips))  # deterministic
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1.0, atol=1e-5)
    assert X.shape == (2, embedder.dim) and X[0] @ X[1] < 0.99


def _whole_face():
    from raypipe.detect.base import Face

    return Face((0.0, 0.0, 80.0, 80.0), 1.0)


@pytest.mark.shared
@pytest.mark.registry
def test_drawn_default_clusters_labelled_characters_better_than_small_cnn_and_colour(faceplugin_models):
    """These ``anime/`` characters are unseen by the shipped identity head (fitted on
    ``anime_fanart`` only): this guards the default end to end; the protocol's figures are in
    docs/drawn-faces.md."""
    from bench.drawn_clusters import load_images, whole_image_chips

    images, labels = load_images(need_shared("data", "anime"), REPORTING_CHARACTERS, per_character=12)
    results = {}
    for spec in (drawn_embedder(str(faceplugin_models)), {"name": "feature", "feature": "drawn"},
                 {"name": "feature", "feature": "color-hist"}):  # fmt: skip
        embedder = EMBEDDERS.build(spec)
        X = embedder.embed(whole_image_chips(embedder, images))
        model = CLUSTERERS.build({"name": "auto", "model": embedder.model_name}).fit(X)
        results[embedder.model_name] = (score_clustering(labels, model.labels_)["bcubed_f"], np.mean(model.labels_ < 0))
    densenet, unassigned = results.pop("feature:drawn-densenet")
    assert unassigned <= 0.15
    assert densenet >= 0.55 and all(densenet > other for other, _ in results.values()), results


def test_train_simclr_starts_from_the_shipped_weights():
    from raypipe.features.learned import SimCLRFeature

    arrays, size, width = load_weights()
    feature = SimCLRFeature(size=size, width=width, epochs=1, learning_rate=0.0, batch_size=4, device="cpu")
    feature.set_state(arrays).fit([_crop((30 * i, 90, 160), i) for i in range(8)])
    conv = next(key for key, value in arrays.items() if value.ndim == 4)
    np.testing.assert_array_equal(feature.get_state()[conv], arrays[conv])


@pytest.mark.shared
@pytest.mark.registry
def test_a_folder_of_character_crops_runs_as_one_drawn_face_per_crop(tmp_path, ray_session, faceplugin_models):
    import cv2
    import pandas as pd

    from raypipe.cli import main

    crops = tmp_path / "crops"
    for name in REPORTING_CHARACTERS[:2]:
        (crops / name).mkdir(parents=True)
        for path in sorted(need_shared("data", "anime", name).iterdir())[:4]:
            face = cv2.imread(str(path))  # twice, beside a white gutter: a page would be two panels
            gutter = np.full((face.shape[0], 30, 3), 255, np.uint8)
            page = cv2.copyMakeBorder(np.hstack([face, gutter, face]), 30, 30, 30, 30, cv2.BORDER_CONSTANT, value=(255, 255, 255))
            cv2.imwrite(str(crops / name / f"{path.stem}.png"), page)
    out = tmp_path / "run"
    code = main(["run", str(crops), "--out", str(out), "--domain", "comic", "--detector", "whole-image",
                 "--model-root", str(faceplugin_models), "--no-tracking"])  # fmt: skip
    assert code == 0
    faces = pd.read_parquet(out / "faces.parquet")
    assert len(faces) == 8 and faces.image_id.is_unique  # a crop is a face, not a page of panels
    assert set(faces.embedder) == {"feature:drawn-densenet"}
    config = json.loads((out / "config.json").read_text())
    assert config["extract"]["detector"]["reframe"] == "drawn-faces"  # each crop framed on its face
    assert config["comic"]["text_mode"] == "auto"  # no panels, so no text mode was resolved
    clusters = pd.read_csv(out / "clusters.csv")
    assert (clusters.cluster >= 0).all()


def test_context_grows_a_face_box_within_the_image_only():
    from raypipe.embed.crop import grown_within

    assert grown_within((0, 0, 80, 60), 0.15, (60, 80, 3)) == (0.0, 0.0, 80.0, 60.0)  # a whole-image crop
    assert grown_within((20, 10, 40, 30), 0.25, (100, 100, 3)) == (15.0, 5.0, 45.0, 35.0)
    assert grown_within((0, 90, 20, 100), 0.5, (100, 100, 3)) == (0.0, 85.0, 30.0, 100.0)  # clipped at the edges


def test_drawn_chip_of_a_face_on_a_page_holds_its_surroundings():
    page = np.full((200, 200, 3), 255, np.uint8)
    page[60:140, 60:140] = (40, 40, 200)  # hair around the face box
    page[80:120, 80:120] = (230, 200, 180)  # the face box
    embedder = EMBEDDERS.build({"name": "feature", "feature": "color-hist", "chip_size": 64, "margin": 0.0, "context": 0.15})
    chip = embedder.align(page, Face((80.0, 80.0, 120.0, 120.0), 1.0))
    assert (chip[0, 0] == (40, 40, 200)).all() and (chip[32, 32] == (230, 200, 180)).all()
    whole = embedder.align(page, Face((0.0, 0.0, 200.0, 200.0), 1.0))
    assert (whole[0, 0] == 255).all()  # nothing added around a whole-image box
