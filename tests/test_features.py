"""Research features, reducers, combination and the result store, on real anime crops."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from raypipe.chips import ChipStore
from raypipe.features import FEATURES
from raypipe.features.store import FeatureStore, FeatureTable
from raypipe.layout import RunLayout
from raypipe.reduce import REDUCERS
from raypipe.research.combine import combine_features, combine_tables
from raypipe.research.extract import extract_feature
from raypipe.research.sweep import TRUE_K, sweep_features
from raypipe.testing.labelled import make_labelled_run
from tests.conftest import need_shared


@pytest.fixture(scope="module")
def anime_run(tmp_path_factory):
    """10 crops of each of the 10 anime characters as a run folder (64 px chips)."""
    root = need_shared("data", "anime")
    return make_labelled_run(
        root, tmp_path_factory.mktemp("anime") / "run", size=64, limit_per_label=10
    )


@pytest.fixture(scope="module")
def chips(anime_run):
    faces = pd.read_parquet(anime_run / "faces.parquet")
    return ChipStore(RunLayout.at(anime_run)).images(faces["face_id"][:12].tolist())


CHIP_FEATURES = [
    ("hog", {}, 1764),
    ("lbp", {"grid": 4}, 16 * 59),
    ("color-hist", {"grid": 2}, 4 * (18 * 3 * 3 + 3)),
    ("pixels", {"size": 16}, 256),
    ("sift-fisher", {"n_words": 4, "pca_dim": 8, "fit_faces": 12}, 2 * 4 * 8),
    ("orb-fisher", {"encoding": "vlad", "n_words": 4, "pca_dim": 8, "fit_faces": 12}, 4 * 8),
    ("sift-fisher", {"encoding": "bow", "n_words": 4, "pca_dim": 8, "fit_faces": 12}, 4),
]


@pytest.mark.shared
@pytest.mark.parametrize(("name", "params", "dim"), CHIP_FEATURES)
def test_extractors_shape_determinism_and_size_independence(chips, name, params, dim):
    first = FEATURES.build({"name": name, **params}).fit(chips)
    vectors = first.transform(chips)
    assert vectors.shape == (len(chips), dim) and vectors.dtype == np.float32
    assert np.isfinite(vectors).all() and np.abs(vectors).sum(axis=1).min() > 0
    again = FEATURES.build({"name": name, **params}).fit(chips).transform(chips)
    np.testing.assert_allclose(vectors, again, rtol=1e-5, atol=1e-6)
    bigger = [np.kron(chip, np.ones((2, 2, 1), np.uint8)) for chip in chips[:3]]
    assert first.transform(bigger).shape == (3, dim)  # any square chip size
    assert len(set(map(bytes, vectors.round(4)))) > len(chips) // 2  # faces differ


@pytest.mark.shared
def test_ray_stage_adds_feature_column(chips):
    stage = FEATURES.build("color-hist")
    batch = {"face_id": np.arange(len(chips)), "chip": np.stack(chips)}
    out = stage(batch)
    assert out["feature"].shape[0] == len(chips) and "chip" in out and "face_id" in out


@pytest.mark.shared
def test_fisher_vectors_are_power_and_l2_normalised(chips):
    vectors = (
        FEATURES.build({"name": "sift-fisher", "n_words": 8, "fit_faces": 12})
        .fit(chips)
        .transform(chips)
    )
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-4)
    assert (vectors < 0).any()  # gradients, not histograms


@pytest.mark.shared
def test_learned_state_round_trips(chips):
    fitted = FEATURES.build(
        {"name": "sift-fisher", "n_words": 4, "pca_dim": 8, "fit_faces": 12}
    ).fit(chips)
    restored = FEATURES.build({"name": "sift-fisher", "n_words": 4, "pca_dim": 8}).set_state(
        fitted.get_state()
    )
    np.testing.assert_allclose(restored.transform(chips), fitted.transform(chips), rtol=1e-5)


@pytest.mark.shared
def test_simclr_loss_falls_and_embeds_on_cpu(chips):
    extractor = FEATURES.build(
        {"name": "simclr", "size": 32, "width": 8, "epochs": 8, "device": "cpu"}
    )
    vectors = extractor.fit(chips).transform(chips)
    assert len(extractor.losses_) == 8
    assert np.mean(extractor.losses_[-3:]) < 0.95 * extractor.losses_[0], extractor.losses_
    assert vectors.shape == (len(chips), 64)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-4)
    restored = FEATURES.build({"name": "simclr", "size": 32, "width": 8, "device": "cpu"})
    np.testing.assert_allclose(
        restored.set_state(extractor.get_state()).transform(chips), vectors, atol=1e-5
    )


@pytest.mark.shared
def test_metric_learning_needs_labels_and_the_labels_change_the_features(chips):
    spec = {"name": "metric", "size": 32, "width": 8, "epochs": 6, "device": "cpu"}
    with pytest.raises(ValueError, match="labels"):
        FEATURES.build(spec).fit(chips)
    labels = np.array([str(i % 3) if i % 4 else None for i in range(len(chips))], dtype=object)
    other = np.array([str(i % 2) if i % 4 else None for i in range(len(chips))], dtype=object)
    fitted = FEATURES.build(spec).fit(chips, labels)
    vectors = fitted.transform(chips)
    assert vectors.shape == (len(chips), 64)
    np.testing.assert_allclose(FEATURES.build(spec).fit(chips, labels).transform(chips), vectors, atol=1e-5)
    relabelled = FEATURES.build(spec).fit(chips, other).transform(chips)
    assert np.abs(relabelled - vectors).max() > 1e-2  # same chips and seed, other labels
    known = np.array([label is not None for label in labels])
    same = labels[known][:, None] == labels[known][None, :]
    similarity = vectors[known] @ vectors[known].T
    assert similarity[same].mean() > similarity[~same].mean()  # trained towards the labels


def test_combine_keeps_common_faces_and_normalises_blocks():
    a = FeatureTable(
        np.array(["x", "y", "z"]), np.array([[3.0, 4.0], [1.0, 0.0], [0.0, 2.0]]), {"name": "a"}
    )
    b = FeatureTable(np.array(["z", "x", "w"]), np.array([[10.0], [-5.0], [1.0]]), {"name": "b"})
    combined = combine_tables([a, b], ["a", "b"])
    assert list(combined.face_ids) == ["x", "z"]
    half = 1 / np.sqrt(2)
    np.testing.assert_allclose(
        combined.vectors, [[0.6 * half, 0.8 * half, -half], [0, half, half]], atol=1e-6
    )
    assert combined.config["parts"] == {"a": {"name": "a"}, "b": {"name": "b"}}


@pytest.mark.parametrize(
    "spec",
    [
        {"name": "pca", "n_components": 5, "whiten": True},
        {"name": "autoencoder", "n_components": 4, "epochs": 3, "device": "cpu"},
    ],
)
def test_reducers_fit_then_apply(spec):
    X = np.random.default_rng(0).normal(size=(60, 20)).astype(np.float32)
    reducer = REDUCERS.build(spec).fit(X[:40])
    reduced = reducer.transform(X)
    assert reduced.shape == (60, spec["n_components"])
    np.testing.assert_allclose(np.linalg.norm(reduced, axis=1), 1.0, rtol=1e-4)


@pytest.mark.shared
def test_store_layout_sweep_and_colour_beats_pixels(anime_run, ray_session):
    run = str(anime_run)
    extract_feature(run, {"name": "pixels", "size": 32})
    extract_feature(run, {"name": "color-hist", "grid": 3})
    extract_feature(run, {"name": "sift-fisher", "n_words": 8, "fit_faces": 30})
    combine_features(run, ["color-hist", "pixels"], "mix")
    store = FeatureStore.at(run)
    assert store.names() == ["color-hist", "mix", "pixels", "sift-fisher"]
    assert (store.folder("sift-fisher") / "state.npz").exists()
    config = json.loads((store.folder("color-hist") / "feature_config.json").read_text())
    assert config["name"] == "color-hist" and config["grid"] == 3 and config["n_faces"] == 100

    table, _ = sweep_features(
        run,
        ["pixels", "color-hist", "mix"],
        ["none", {"name": "pca", "n_components": 20}],
        [{"name": "kmeans", "n_clusters": TRUE_K, "n_init": 5}],
    )
    assert len(table) == 6
    assert (anime_run / "results" / "results.csv").exists()
    assert {
        "feature",
        "reducer",
        "clusterer",
        "nmi",
        "bcubed_f",
        "accuracy",
        "reducer.n_components",
        "clusterer.n_clusters",
        "feature_config.grid",
    } <= set(table.columns)
    assert (table["n_clusters"] == 10).all()
    assert table["bcubed_f"].is_monotonic_decreasing  # ranked by the README's metric
    best = table.groupby("feature")["nmi"].max()
    assert best["color-hist"] > best["pixels"] + 0.1
    clustering = anime_run / table.iloc[0]["path"]
    assert {p.name for p in clustering.iterdir()} == {
        "clusters.csv",
        "clustering_config.json",
        "metrics.json",
    }
    assert (clustering.parents[2] / "reducer_config.json").exists()


@pytest.mark.shared
@pytest.mark.parametrize("spec", [{"name": "color-hist"}, {"name": "sift-fisher", "n_words": 4, "pca_dim": 8, "fit_faces": 20}])
def test_features_on_ray_data_equal_the_local_computation(anime_run, tmp_path, ray_session, spec):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(anime_run, run, ignore=shutil.ignore_patterns("features", "reductions", "results"))
    local = extract_feature(str(run), spec, "local")
    on_ray = extract_feature(str(run), spec, "ray", use_ray=True)
    assert list(on_ray.face_ids) == list(local.face_ids)
    np.testing.assert_allclose(on_ray.vectors, local.vectors, atol=1e-5)
