"""The drawn-face protocol's folds and the identity head (training, shipped weights)."""

from __future__ import annotations

import numpy as np
import pytest

from raypipe.evaluation.protocol import character_folds, mean_and_worst
from raypipe.features.drawn_densenet import (
    BLOCK_WIDTHS,
    COLOUR,
    IDENTITY,
    PROJECTION,
    colour_histograms,
    colour_scale,
    fitted_on,
    load_projection,
    projected,
    save_identity,
)
from raypipe.features.learn.identity_head import (
    HeadSettings,
    PseudoFilter,
    confident_members,
    margin_loss,
    pseudo_characters,
    supervised_contrastive,
    train_identity_head,
    with_pseudo_characters,
    within_class_whitening,
)
from raypipe.features.learn.train import TrainLimits
from tests.conftest import need_shared

SOURCE_OF = {**{f"anime_{i}": "anime" for i in range(10)}, **{f"fanart_{i}": "fanart" for i in range(10)}}


def test_character_folds_never_share_a_character_between_fit_and_report():
    folds = character_folds(SOURCE_OF, splits=10)
    assert len(folds) == 12
    for fold in folds:
        assert not set(fold.fit) & set(fold.report)
        assert set(fold.fit) | set(fold.report) == set(SOURCE_OF)
    random = [fold for fold in folds if fold.name.startswith("random")]
    for fold in random:  # half of each source on each side
        assert sorted(SOURCE_OF[name] for name in fold.fit) == ["anime"] * 5 + ["fanart"] * 5
    assert len({fold.fit for fold in random}) == 10  # the splits differ
    by_source = {fold.name: {SOURCE_OF[name] for name in fold.report} for fold in folds[10:]}
    assert by_source == {"report-anime": {"anime"}, "report-fanart": {"fanart"}}
    assert character_folds(SOURCE_OF, splits=10) == folds  # seeded


def test_fold_masks_select_rows_of_their_side_only():
    fold = character_folds(SOURCE_OF, splits=1)[0]
    labels = np.array(sorted(SOURCE_OF) * 3)
    fit, report = fold.masks(labels)
    assert not (fit & report).any() and (fit | report).all()
    assert set(labels[fit]) == set(fold.fit) and set(labels[report]) == set(fold.report)


def test_mean_and_worst_take_the_lowest_score_and_the_most_faces_alone():
    summary = mean_and_worst([{"bcubed_f": 0.8, "alone": 0.05}, {"bcubed_f": 0.6, "alone": 0.15}])
    assert summary["mean"] == pytest.approx({"bcubed_f": 0.7, "alone": 0.10})
    assert summary["worst"] == {"bcubed_f": 0.6, "alone": 0.15}


def _identity_data(classes: int, per_class: int, seed: int):
    """16-d rows: identity in the last 4 dimensions, loud nuisance in the first 12."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(classes, 4))
    labels = np.repeat(np.arange(classes), per_class)
    rows = np.hstack([rng.normal(size=(len(labels), 12)) * 3.0, centres[labels] + rng.normal(size=(len(labels), 4)) * 0.2])
    return rows.astype(np.float32), labels


def _nearest_neighbour_accuracy(Z: np.ndarray, labels: np.ndarray) -> float:
    Z = Z / np.linalg.norm(Z, axis=1, keepdims=True)
    similarity = Z @ Z.T
    np.fill_diagonal(similarity, -np.inf)
    return float(np.mean(labels[similarity.argmax(axis=1)] == labels))


@pytest.fixture
def one_torch_thread():
    """A tiny model trains in about 2 s on one thread; on a loaded 2-core machine torch's own
    threads can take 30 times that, and a time-boxed run would then stop at another epoch."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize(("loss", "least"), [("supervised-contrastive", 0.9), ("cosface", 0.75), ("arcface", 0.7)])
def test_identity_head_learns_what_tells_unseen_characters_apart(loss, least, one_torch_thread):
    """Nearest-neighbour accuracy on unseen characters from 1 in 8 (the head's start) to ``least``;
    the same seed gives the same head (50 epochs, a time box far beyond them)."""
    train, train_labels = _identity_data(8, 30, seed=0)
    held, held_labels = _identity_data(6, 20, seed=1)  # other characters
    settings = HeadSettings(dim=4, temperature=0.1, proximity=0.0, loss=loss,
                            limits=TrainLimits(epochs=50, max_seconds=600, batch_size=64, learning_rate=1e-2))
    head = train_identity_head(train, train_labels, None, settings)
    assert head.shape == (16, 4)
    untrained = _nearest_neighbour_accuracy(held @ np.eye(16, 4, dtype=np.float32), held_labels)
    trained = _nearest_neighbour_accuracy(held @ head, held_labels)
    assert untrained < 0.5 and trained > least, (untrained, trained)
    np.testing.assert_array_equal(head, train_identity_head(train, train_labels, None, settings))  # seeded


@pytest.mark.parametrize("loss", ["cosface", "arcface"])
def test_margin_loss_is_low_when_rows_sit_at_their_own_prototype_and_the_margin_raises_it(loss):
    import torch

    labels = torch.arange(3).repeat_interleave(4)
    prototypes = torch.eye(3)
    apart, mixed = prototypes[labels] * 5.0, torch.from_numpy(np.random.default_rng(0).normal(size=(12, 3))).float()
    value = lambda z, margin: float(margin_loss(z, prototypes, labels, HeadSettings(loss=loss, margin=margin)))
    assert value(apart, 0.25) < value(mixed, 0.25)
    assert value(apart, 0.0) < value(apart, 0.25)


def test_supervised_contrastive_loss_is_low_when_characters_are_apart():
    labels = np.repeat(np.arange(3), 4)
    apart = np.eye(3)[labels] * 5.0
    mixed = np.random.default_rng(0).normal(size=(12, 3))
    import torch

    loss = lambda z: float(supervised_contrastive(torch.tensor(z, dtype=torch.float32), torch.tensor(labels), 0.1))
    assert loss(apart) < loss(mixed)


def test_shipped_identity_head_loads_without_pickle_and_projects_deterministically():
    from raypipe.features.drawn_densenet import backbone_blocks, split_blocks

    identity, plain = load_projection(IDENTITY), load_projection(PROJECTION)  # allow_pickle=False inside
    assert "head" in identity and "head" not in plain
    rng = np.random.default_rng(0)
    features = np.abs(rng.normal(size=(5, identity["mean"].shape[0]))).astype(np.float32)
    colours = colour_histograms(list(rng.integers(0, 256, size=(5, 32, 32, 3), dtype=np.uint8)), mirrored=True)
    first = projected(features, identity, colours)
    np.testing.assert_array_equal(first, projected(features, load_projection(IDENTITY), colours))
    np.testing.assert_allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-5)
    assert first.shape == (5, identity["head"].shape[1])
    blocks = backbone_blocks(identity)
    unlabelled = projected(split_blocks(features, blocks)[blocks.index(4)], plain)  # block 4's projection alone
    assert not np.allclose(first @ first.T, unlabelled @ unlabelled.T, atol=1e-3)


def test_identity_head_file_records_the_characters_and_sources_it_was_fitted_on(tmp_path):
    projection = load_projection(PROJECTION)
    head = np.eye(len(projection["components"]), 8, dtype=np.float32)
    save_identity(tmp_path / "head.npz", projection, head, ["b", "a"], ["anime_fanart", "anime_fanart"])
    assert fitted_on(tmp_path / "head.npz") == {"characters": ["b", "a"], "sources": ["anime_fanart", "anime_fanart"], "reframe": "none"}
    save_identity(tmp_path / "reframed.npz", projection, head, ["a"], ["anime_fanart"], reframe="drawn-faces")
    assert fitted_on(tmp_path / "reframed.npz")["reframe"] == "drawn-faces"
    np.testing.assert_array_equal(load_projection(tmp_path / "head.npz")["head"], head)


def test_identity_head_file_records_the_pseudo_characters_it_was_fitted_on(tmp_path):
    projection = load_projection(PROJECTION)
    head = np.eye(len(projection["components"]), 8, dtype=np.float32)
    said = "anime_unlabelled: 3 pseudo-characters (a filter)"
    save_identity(tmp_path / "head.npz", projection, head, ["a"], ["anime_fanart"], pseudo=said)
    assert fitted_on(tmp_path / "head.npz")["pseudo_characters"] == said


def test_identity_head_file_records_the_other_chipping_it_also_saw(tmp_path):
    projection = load_projection(PROJECTION)
    head = np.eye(len(projection["components"]), 8, dtype=np.float32)
    said = "the same crops chipped with reframe none: their run view"
    save_identity(tmp_path / "head.npz", projection, head, ["a"], ["anime_fanart"], reframe="drawn-faces", other_framing=said)
    assert fitted_on(tmp_path / "head.npz")["other_framing"] == said
    save_identity(tmp_path / "plain.npz", projection, head, ["a"], ["anime_fanart"])
    assert "other_framing" not in fitted_on(tmp_path / "plain.npz")


def test_shipped_identity_head_was_fitted_on_fan_art_only():
    """``anime`` is evaluation only (../shared/data/SOURCES.md): no shipped head may be fitted on
    it; unlabelled pseudo-characters, if any, come from ``anime_unlabelled`` alone."""
    provenance = fitted_on(IDENTITY)
    assert len(provenance["characters"]) == len(provenance["sources"]) == 10
    assert set(provenance["sources"]) == {"anime_fanart"}
    assert provenance.get("pseudo_characters", "anime_unlabelled:").startswith("anime_unlabelled:")


def test_shipped_identity_head_was_refitted_with_anime_unlabelled_pseudo_characters():
    """Issue 25, ninth round: the shipped head is the fan-art head refitted twice with the
    pseudo-characters of ``anime_unlabelled`` its previous fit finds (the D1 filter)."""
    said = fitted_on(IDENTITY)["pseudo_characters"]
    assert said.startswith("anime_unlabelled: ")
    assert PseudoFilter().describe() in said and "found 2 times" in said


def test_shipped_identity_head_was_fitted_on_crops_framed_as_a_comic_whole_image_run_frames_them(tmp_path):
    """Issue 25, tenth round: the head was fitted on crops reframed on their drawn face, the way
    ``--domain comic --detector whole-image`` chips a user's crops unless told otherwise."""
    from raypipe.detect.select import resolve_detector

    assert fitted_on(IDENTITY)["reframe"] == "drawn-faces"
    assert resolve_detector({"name": "whole-image"}, "comic", str(tmp_path))["reframe"] == fitted_on(IDENTITY)["reframe"]


def test_shipped_identity_head_also_saw_each_crop_whole_as_more_augmented_views():
    """Issue 25, eleventh round: besides the reframed crops, the head saw each crop whole (its run
    view and its augmented view) as more views of its character."""
    assert fitted_on(IDENTITY)["other_framing"] == "the same crops chipped with reframe none: their run view and augmented views"


@pytest.mark.shared
def test_shipped_identity_head_never_saw_an_evaluation_only_character():
    characters = set(fitted_on(IDENTITY)["characters"])
    assert characters <= {path.name for path in need_shared("data", "anime_fanart").iterdir()}
    assert not characters & {path.name for path in need_shared("data", "anime").iterdir()}


def _same_character_auc(Z: np.ndarray, labels: np.ndarray) -> float:
    """How well cosine similarity ranks same-character pairs above different-character pairs."""
    from sklearn.metrics import roc_auc_score

    Z = Z / np.linalg.norm(Z, axis=1, keepdims=True)
    upper = np.triu_indices(len(labels), 1)
    return float(roc_auc_score((labels[:, None] == labels[None, :])[upper], (Z @ Z.T)[upper]))


@pytest.mark.shared
@pytest.mark.registry
def test_identity_head_fitted_on_one_source_separates_the_other_sources_characters(faceplugin_models):
    """The shipped kind of head (within-class whitening) fitted, as the shipped one is, on the 10
    ``anime_fanart`` characters (10 crops each) ranks same-character pairs of 5 ``anime``
    characters it never saw (10 crops each) better than the unlabelled projection it starts from
    (AUC 0.80 against 0.77 when written)."""
    from bench.drawn_clusters import load_images, whole_image_chips
    from raypipe.embed import EMBEDDERS
    from raypipe.embed.select import drawn_embedder
    from raypipe.features.drawn_densenet import whitened
    from raypipe.features.learn.identity_head import within_class_whitening

    spec = drawn_embedder(str(faceplugin_models))
    embedder = EMBEDDERS.build({**spec, "feature": {**spec["feature"], "projection": None}})
    projection = load_projection(PROJECTION)

    def features(source: str, characters: list[str]):
        images, labels = load_images(need_shared("data", source), characters, per_character=10)
        pooled = embedder.extractor.pooled(list(whole_image_chips(embedder, images)))
        return whitened(pooled, projection).astype(np.float32), labels

    fit, fit_labels = features("anime_fanart", sorted(p.name for p in need_shared("data", "anime_fanart").iterdir()))
    held, held_labels = features("anime", sorted(p.name for p in need_shared("data", "anime").iterdir())[:5])
    head = within_class_whitening(fit, fit_labels)
    untrained, trained = _same_character_auc(held, held_labels), _same_character_auc(held @ head, held_labels)
    assert trained >= untrained + 0.02, (untrained, trained)


def test_auto_clusters_a_model_calibrated_with_communities_into_its_leiden_communities(monkeypatch):
    from raypipe.cluster import calibration
    from raypipe.cluster.auto import AutoClusterer
    from raypipe.cluster.graph import Leiden
    from raypipe.evaluation.metrics import score_clustering
    from raypipe.testing.embeddings import make_faces

    faces = make_faces(300, 64, mean_size=15, zipf_a=0.0, noise_fraction=0.0, seed=4)
    communities = calibration.Communities(distance=0.6, k=20, resolution=1.0)
    monkeypatch.setitem(calibration.CALIBRATION, "drawn-test", calibration.SamePerson(0.3, 0.5, communities=communities))
    auto = AutoClusterer(model="drawn-test", cannot_link=False).fit(faces.X)
    leiden = Leiden(threshold=0.6, k=20, resolution=1.0).fit(faces.X)
    np.testing.assert_array_equal(auto.labels_, leiden.labels_)
    assert auto.threshold_ == 0.6 and score_clustering(faces.labels, auto.labels_)["bcubed_f"] > 0.9
    given = AutoClusterer(model="drawn-test", threshold=0.3, cannot_link=False).fit(faces.X)  # average linkage
    np.testing.assert_array_equal(given.labels_, AutoClusterer(threshold=0.3, cannot_link=False).fit(faces.X).labels_)


def test_protocol_ship_fits_the_head_on_shippable_sources_only(tmp_path, monkeypatch):
    """``drawn_protocol.py --ship`` reads every labelled character but fits (and chooses its
    clusterer) on ``anime_fanart`` only: the written file says so."""
    from pathlib import Path

    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "bench"))
    import drawn_protocol

    projection = load_projection(PROJECTION)
    dim = len(projection["components"])
    rng = np.random.default_rng(0)
    source_of = {**{f"anime_{i}": "anime" for i in range(6)}, **{f"fanart_{i}": "anime_fanart" for i in range(6)}}
    labels = np.repeat(sorted(source_of), 8)
    centres = {name: rng.normal(size=dim) * 3 for name in source_of}
    white = np.stack([centres[name] + rng.normal(size=dim) for name in labels]).astype(np.float32)
    views = (white + rng.normal(size=white.shape).astype(np.float32))[None]
    out = tmp_path / "head.npz"
    drawn_protocol.ship(drawn_protocol.fit_within_class_views, white, views, labels, source_of, projection, None, out)
    assert fitted_on(out) == {"characters": [f"fanart_{i}" for i in range(6)], "sources": ["anime_fanart"] * 6, "reframe": "none"}


def _left_heavy_pooled(self, chips):
    """Stand-in backbone features that tell a chip from its mirror image (column-weighted means)."""
    weights = np.linspace(0.0, 1.0, chips[0].shape[1])
    per_chip = [np.abs(np.einsum("hwc,w->c", chip.astype(np.float64), weights)) for chip in chips]
    dim = len(load_projection(PROJECTION)["mean"])
    return np.stack([np.resize(np.sqrt(f), dim) * np.linspace(0.5, 1.5, dim) for f in per_chip]).astype(np.float32)


@pytest.mark.parametrize("mirrored", [True, False])
def test_drawn_densenet_embeds_a_face_and_its_mirror_alike_only_with_a_head_fitted_mirrored(tmp_path, monkeypatch, mirrored):
    from raypipe.features.drawn_densenet import DrawnFaceDenseNet

    projection = load_projection(PROJECTION)
    head = np.random.default_rng(0).normal(size=(len(projection["components"]), 16)).astype(np.float32)
    save_identity(tmp_path / "head.npz", projection, head, ["a"], ["anime_fanart"], mirrored=mirrored)
    (tmp_path / "backbone.onnx").write_bytes(b"unused: the backbone pass is replaced")
    monkeypatch.setattr(DrawnFaceDenseNet, "_pooled", _left_heavy_pooled)
    extractor = DrawnFaceDenseNet(model_path=tmp_path / "backbone.onnx", projection=tmp_path / "head.npz")
    chip = np.random.default_rng(1).integers(0, 256, size=(32, 32, 3), dtype=np.uint8)
    face, mirror = extractor.transform([chip, chip[:, ::-1]])
    assert extractor.mirrored is mirrored
    assert np.allclose(face, mirror, atol=1e-6) is mirrored


def test_shipped_identity_head_was_fitted_on_crops_and_their_mirror_images():
    assert bool(load_projection(IDENTITY)["mirrored"])


def test_shipped_identity_head_takes_the_whitened_features_and_a_colour_block():
    """Issue 25, fourth round: the head's input is the whitened DenseNet features (768 since the
    thirteenth round) joined with the 165-bin colour histogram, scaled as fitted (32 components'
    variance on anime_unlabelled)."""
    identity = load_projection(IDENTITY)
    bins = COLOUR.transform([np.zeros((8, 8, 3), np.uint8)]).shape[1]
    assert identity["head"].shape[0] == identity["components"].shape[0] + bins
    assert 1.0 < colour_scale(identity) < 100.0


def test_shipped_identity_head_whitens_dense_block_4_alone_by_768_components_of_the_unlabelled_pca():
    """Issue 25, seventh round: blocks 2, 3 and 4 (the sixth round) lost the across-source fit
    side, so block 4 alone is back (the ninth round's refit names ``blocks`` 4). Thirteenth round:
    its whitening keeps 768 components of a PCA fitted on anime_unlabelled, the same PCA as the
    shipped 384-component projection (the verifier's): same mean, same leading components."""
    from raypipe.features.drawn_densenet import backbone_blocks

    identity, shipped = load_projection(IDENTITY), load_projection(PROJECTION)
    assert backbone_blocks(identity) == (4,)
    assert identity["components"].shape == (768, 1024)
    np.testing.assert_allclose(identity["mean"], shipped["mean"], rtol=1e-6)
    leading = np.abs(np.sum(identity["components"][:64] * shipped["components"][:64], axis=1))
    assert leading.min() > 0.999


def test_shipped_drawn_embedding_is_the_same_for_a_face_and_its_mirror(faceplugin_models):
    from raypipe.features.drawn_densenet import BACKBONE_FILE, DrawnFaceDenseNet

    extractor = DrawnFaceDenseNet(model_path=faceplugin_models / BACKBONE_FILE)
    chip = np.random.default_rng(2).integers(0, 256, size=(224, 224, 3), dtype=np.uint8)
    face, mirror = extractor.transform([chip, np.ascontiguousarray(chip[:, ::-1])])
    np.testing.assert_allclose(face, mirror, atol=1e-5)
    assert abs(float(face @ mirror) - 1.0) < 1e-5


def test_auto_standardises_the_run_before_leiden_when_calibrated_so(monkeypatch):
    """Faces that all share one offset (a source's drawing style) look alike to cosine distance:
    Leiden on the raw vectors merges characters, on the run-standardised ones it separates them."""
    from raypipe.cluster import calibration
    from raypipe.cluster.auto import AutoClusterer
    from raypipe.cluster.base import run_standardised
    from raypipe.cluster.graph import Leiden
    from raypipe.evaluation.metrics import score_clustering
    from raypipe.testing.embeddings import make_faces

    faces = make_faces(300, 64, mean_size=15, zipf_a=0.0, noise_fraction=0.0, seed=4)
    styled = faces.X + 3.0 * np.random.default_rng(5).normal(size=64).astype(np.float32) / 8.0
    for standardised in (True, False):
        communities = calibration.Communities(distance=0.6, k=20, resolution=1.0, standardised=standardised)
        monkeypatch.setitem(calibration.CALIBRATION, f"drawn-{standardised}", calibration.SamePerson(0.3, 0.5, communities=communities))  # fmt: skip
    on = AutoClusterer(model="drawn-True", cannot_link=False).fit(styled).labels_
    off = AutoClusterer(model="drawn-False", cannot_link=False).fit(styled).labels_
    np.testing.assert_array_equal(on, Leiden(threshold=0.6, k=20, resolution=1.0).fit(run_standardised(styled)).labels_)
    assert score_clustering(faces.labels, on)["bcubed_f"] > 0.9
    assert score_clustering(faces.labels, off)["bcubed_f"] < 0.85


def test_drawn_densenet_faces_are_standardised_over_the_run_before_their_leiden_communities():
    from raypipe.cluster.auto import AutoClusterer
    from raypipe.cluster.base import run_standardised
    from raypipe.cluster.calibration import CALIBRATION
    from raypipe.cluster.graph import Leiden
    from raypipe.testing.embeddings import make_faces

    faces = make_faces(200, 64, mean_size=10, zipf_a=0.0, noise_fraction=0.0, seed=6)
    shipped = CALIBRATION["feature:drawn-densenet"].communities
    auto = AutoClusterer(model="feature:drawn-densenet", cannot_link=False).fit(faces.X)
    leiden = Leiden(threshold=shipped.distance, k=shipped.k, resolution=shipped.resolution)
    np.testing.assert_array_equal(auto.labels_, leiden.fit(run_standardised(faces.X)).labels_)
    assert not np.array_equal(auto.labels_, leiden.fit(faces.X).labels_)


def test_a_user_giving_k_for_drawn_faces_gets_leiden_communities_of_the_standardised_run_searched_to_k():
    """``--set cluster.clusterer.n_clusters=K`` on a drawn-face run: ``auto`` runs what issue 25's
    third round chose by fit-side NMI with k (docs/drawn-faces.md): the run standardised, Leiden
    on the shipped graph, the resolution searched to K communities; not k-means."""
    from raypipe.cluster.base import run_standardised
    from raypipe.cluster.calibration import CALIBRATION
    from raypipe.cluster.graph import Leiden
    from raypipe.cluster.kmeans import KMeans
    from raypipe.cluster.step import ClusterInputs, assign_clusters, clusterer_spec
    from raypipe.config import Config
    from raypipe.evaluation.metrics import score_clustering
    from raypipe.testing.embeddings import make_faces

    faces = make_faces(200, 64, mean_size=10, zipf_a=0.0, noise_fraction=0.0, seed=6)
    wanted = 12
    config = Config().updated(overrides=[f"cluster.clusterer.n_clusters={wanted}"])
    spec = clusterer_spec(config.cluster.clusterer, "feature:drawn-densenet", config.cluster.cannot_link)
    inputs = ClusterInputs(np.arange(len(faces.X)), faces.X, np.arange(len(faces.X)))
    labels = assign_clusters(inputs, spec)
    shipped = CALIBRATION["feature:drawn-densenet"].communities
    chosen = Leiden(threshold=shipped.distance, k=shipped.k, n_clusters=wanted).fit(run_standardised(faces.X)).labels_
    assert len(np.unique(labels)) == wanted
    assert score_clustering(labels, chosen)["nmi"] == pytest.approx(1.0)
    assert score_clustering(labels, KMeans(n_clusters=wanted).fit(faces.X).labels_)["nmi"] < 0.99


def _flat_pooled(self, chips):
    """Stand-in backbone features that are the same for every chip (only colour can tell them apart)."""
    return np.ones((len(chips), len(load_projection(PROJECTION)["mean"])), np.float32)


def _colour_head(tmp_path, scale: float):
    from raypipe.features.drawn_densenet import DrawnFaceDenseNet

    projection = load_projection(PROJECTION)
    rows = len(projection["components"]) + (len(COLOUR.transform([np.zeros((8, 8, 3), np.uint8)])[0]) if scale else 0)
    head = np.random.default_rng(0).normal(size=(rows, 16)).astype(np.float32)
    save_identity(tmp_path / "head.npz", projection, head, ["a"], ["anime_fanart"], mirrored=True, colour_scale=scale)
    (tmp_path / "backbone.onnx").write_bytes(b"unused: the backbone pass is replaced")
    return DrawnFaceDenseNet(model_path=tmp_path / "backbone.onnx", projection=tmp_path / "head.npz")


@pytest.mark.parametrize("scale", [0.0, 9.0])
def test_drawn_densenet_joins_the_colour_block_its_head_was_fitted_with_at_run_time(tmp_path, monkeypatch, scale):
    """A head fitted with a colour block gets the chips' colour histograms (mirror-averaged, times
    the recorded scale) joined to their whitened features; a head without one does not."""
    from raypipe.features.drawn_densenet import DrawnFaceDenseNet

    monkeypatch.setattr(DrawnFaceDenseNet, "_pooled", _flat_pooled)
    extractor = _colour_head(tmp_path, scale)
    red, blue = (np.zeros((32, 32, 3), np.uint8) for _ in range(2))
    red[..., 0], blue[..., 2] = 220, 220
    red_z, blue_z = extractor.transform([red, blue])
    assert np.allclose(red_z, blue_z, atol=1e-6) is (scale == 0.0)
    if scale:
        features = _flat_pooled(None, [red, blue])
        expected = projected(features, load_projection(tmp_path / "head.npz"), colour_histograms([red, blue], True))
        np.testing.assert_allclose(np.stack([red_z, blue_z]), expected, atol=1e-6)


def test_identity_head_taking_a_colour_block_refuses_features_without_it(tmp_path, monkeypatch):
    _colour_head(tmp_path, 9.0)
    with pytest.raises(ValueError, match="colour block"):
        projected(_flat_pooled(None, [0]), load_projection(tmp_path / "head.npz"))


def test_protocol_colour_block_is_the_one_the_embedder_computes(monkeypatch):
    """The protocol fits the head on each crop's colour histogram averaged with its mirror view's
    (``drawn_features``); a run computes ``colour_histograms(chips, mirrored=True)``: the same."""
    from pathlib import Path

    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "bench"))
    from drawn_features import TEST_VIEWS

    chips = np.random.default_rng(3).integers(0, 256, size=(3, 40, 40, 3), dtype=np.uint8)
    protocol = (COLOUR.transform(list(chips)) + COLOUR.transform(list(TEST_VIEWS["mirror"](chips)))) / 2
    np.testing.assert_allclose(protocol, colour_histograms(list(chips), mirrored=True), atol=1e-6)
    assert not np.allclose(colour_histograms(list(chips[:1])), colour_histograms(list(chips[1:2])))


@pytest.mark.registry
def test_one_backbone_pass_answers_the_pooled_features_of_each_dense_block(faceplugin_models):
    """Issue 25, sixth round: ``blocks=(2, 3, 4)`` pools the outputs of blocks 2 and 3 (their
    transition's norm + ReLU) beside block 4's, in one pass: block 4's part is what the shipped
    single-block pass gives, and block 3's is the square root of its ReLU map's spatial mean."""
    import onnx
    import onnxruntime as ort

    from raypipe.features.drawn_densenet import (
        INPUT_SIZE,
        DrawnFaceDenseNet,
        _block_output,
        split_blocks,
    )

    path = faceplugin_models / "fr_expression.onnx"
    chips = list(np.random.default_rng(5).integers(0, 256, size=(2, INPUT_SIZE, INPUT_SIZE, 3), dtype=np.uint8))
    joined = DrawnFaceDenseNet(model_path=path, projection=None, blocks=(2, 3, 4), device="cpu").pooled(chips)
    block2, block3, block4 = split_blocks(joined, (2, 3, 4))
    assert [b.shape[1] for b in (block2, block3, block4)] == [BLOCK_WIDTHS[b] for b in (2, 3, 4)]
    single = DrawnFaceDenseNet(model_path=path, projection=None, device="cpu").pooled(chips)
    np.testing.assert_allclose(block4, single, atol=1e-5)
    model = onnx.load(str(path))
    relu = _block_output(model, 3)
    del model.graph.output[:]
    model.graph.output.append(onnx.helper.make_tensor_value_info(relu, onnx.TensorProto.FLOAT, None))
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    x = np.stack(chips).transpose(0, 3, 1, 2).astype(np.float32) / 255.0
    maps = np.concatenate([session.run(None, {session.get_inputs()[0].name: row[None]})[0] for row in x])
    assert maps.shape[1:] == (1024, 14, 14)
    np.testing.assert_allclose(block3, np.sqrt(maps.mean(axis=(2, 3))), atol=1e-4)


def _blocks_pooled(self, chips):
    """Stand-in backbone features as wide as the extractor's blocks, different per chip."""
    width = sum(BLOCK_WIDTHS[b] for b in self.blocks)
    return np.stack([np.linspace(0.1, 1.0, width) * (1 + chip.mean()) for chip in chips]).astype(np.float32)


def test_drawn_densenet_pools_the_blocks_its_identity_file_whitens(tmp_path, monkeypatch):
    """A head fitted on blocks 3 and 4 (each whitened by its own PCA, joined) makes the embedder
    pool those blocks and whiten them as fitted; a file without ``blocks`` pools block 4 alone."""
    from raypipe.features.drawn_densenet import DrawnFaceDenseNet, joined_projection, whitened

    monkeypatch.setattr(DrawnFaceDenseNet, "_pooled", _blocks_pooled)
    block4 = load_projection(PROJECTION)
    rng = np.random.default_rng(2)
    block3 = {"mean": rng.random(1024).astype(np.float32), "components": np.linalg.qr(rng.normal(size=(1024, 384)))[0].T.astype(np.float32),
              "scale": rng.random(384).astype(np.float32) + 0.5}  # fmt: skip
    projection = joined_projection([block3, block4])
    assert projection["components"].shape == (768, 2048)
    head = rng.normal(size=(768, 16)).astype(np.float32)
    save_identity(tmp_path / "head.npz", projection, head, ["a"], ["anime_fanart"], blocks=(3, 4))
    (tmp_path / "backbone.onnx").write_bytes(b"unused: the backbone pass is replaced")
    extractor = DrawnFaceDenseNet(model_path=tmp_path / "backbone.onnx", projection=tmp_path / "head.npz")
    assert extractor.blocks == (3, 4)
    chips = [np.full((8, 8, 3), v, np.uint8) for v in (10, 200)]
    features = _blocks_pooled(extractor, chips)
    expected = projected(features, {**projection, "head": head})
    np.testing.assert_allclose(extractor.transform(chips), expected, atol=1e-5)
    three, four = features[:, :1024], features[:, 1024:]  # each block whitened by its own PCA
    apart = np.hstack([whitened(three, block3), whitened(four, block4)]) @ head
    np.testing.assert_allclose(expected, apart / np.linalg.norm(apart, axis=1, keepdims=True), atol=1e-5)
    stored = dict(np.load(tmp_path / "head.npz", allow_pickle=False))
    del stored["blocks"]
    old = {**stored, "mean": block4["mean"], "components": block4["components"], "scale": block4["scale"], "head": head[:384]}
    np.savez(tmp_path / "old.npz", **old)
    assert DrawnFaceDenseNet(model_path=tmp_path / "backbone.onnx", projection=tmp_path / "old.npz").blocks == (4,)


def test_identity_file_whose_projection_does_not_fit_its_blocks_is_refused_in_one_line(tmp_path):
    from raypipe.errors import UsageError
    from raypipe.features.drawn_densenet import DrawnFaceDenseNet

    projection = load_projection(PROJECTION)
    save_identity(tmp_path / "head.npz", projection, np.eye(384, dtype=np.float32), ["a"], ["anime_fanart"], blocks=(3, 4))
    (tmp_path / "backbone.onnx").write_bytes(b"unused")
    with pytest.raises(UsageError, match="1024 features, but blocks"):
        DrawnFaceDenseNet(model_path=tmp_path / "backbone.onnx", projection=tmp_path / "head.npz")


@pytest.mark.shared
@pytest.mark.registry
def test_shipped_embedder_gives_the_protocols_features_of_the_blocks_its_head_was_fitted_on(faceplugin_models, monkeypatch):
    """The protocol's head input (``bench/drawn_features.py``: every block from one pass, the
    crop's and its mirror view's averaged, the identity file's blocks joined in its order, the
    colour block alike) through the shipped head is what the shipped embedder gives a run's chips."""
    from pathlib import Path

    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "bench"))
    import drawn_features
    from drawn_clusters import load_images, whole_image_chips

    from raypipe.features.drawn_densenet import DrawnFaceDenseNet, backbone_blocks, split_blocks

    identity = load_projection(IDENTITY)
    bench = drawn_features._embedder(str(faceplugin_models))
    images, _ = load_images(need_shared("data", "anime_fanart"), ["bae", "gura"], per_character=2)
    chips = whole_image_chips(bench, images)
    views = [chips, drawn_features.TEST_VIEWS["mirror"](chips)]
    per_block = [dict(zip(drawn_features.BLOCKS, split_blocks(bench.extractor.pooled(list(v)), drawn_features.BLOCKS))) for v in views]
    features = np.hstack([(per_block[0][b] + per_block[1][b]) / 2 for b in backbone_blocks(identity)])
    colours = (COLOUR.transform(list(views[0])) + COLOUR.transform(list(views[1]))) / 2
    shipped = DrawnFaceDenseNet(model_path=faceplugin_models / "fr_expression.onnx", device="cpu")
    np.testing.assert_allclose(shipped.transform(list(chips)), projected(features, identity, colours), atol=1e-4)


def _unit(X: np.ndarray) -> np.ndarray:
    return (X / np.linalg.norm(X, axis=1, keepdims=True)).astype(np.float32)


def test_confident_members_keep_a_tight_community_and_drop_interleaved_and_small_ones():
    """Pseudo-characters (issue 25, ninth round): a community whose faces' nearest faces share it
    is kept whole; two communities drawn from one blob (each face's neighbours half in the other)
    and a community of fewer than 5 are dropped."""
    rng = np.random.default_rng(0)
    tight = np.array([1.0, 0, 0]) + 0.05 * rng.normal(size=(20, 3))
    blob = np.array([0, 1.0, 0]) + 0.05 * rng.normal(size=(40, 3))
    small = np.array([0, 0, 1.0]) + 0.05 * rng.normal(size=(4, 3))
    communities = np.r_[np.zeros(20), rng.permutation(np.repeat([1, 2], 20)), np.full(4, 3)].astype(np.int64)
    kept = confident_members(_unit(np.concatenate([tight, blob, small])), communities, PseudoFilter())
    assert np.all(kept[:20] == 0)
    assert np.all(kept[20:] == -1)


def test_pseudo_characters_find_each_tight_cluster_whole_and_never_join_two():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(4, 32))
    truth = np.repeat(np.arange(4), 40)
    found = pseudo_characters(_unit(centres[truth] + 0.15 * rng.normal(size=(160, 32))), PseudoFilter(resolution=1.0))
    assert found.max() + 1 == 4
    for character in range(4):
        assert len(np.unique(found[truth == character])) == 1


def test_pseudo_characters_shrink_the_directions_along_which_they_vary():
    """The labelled characters barely vary along the last input; tight unlabelled clusters vary
    along it: refitted with them, the head shrinks that input (it would amplify it alone)."""
    rng = np.random.default_rng(1)
    d = 8
    labelled_centres = 3 * rng.normal(size=(3, d))
    labels = np.repeat(np.arange(3), 30)
    noise = rng.normal(size=(90, d)) * np.r_[np.ones(d - 1), 0.01]
    features = (labelled_centres[labels] + noise).astype(np.float32)
    unlabelled_centres = 6 * rng.normal(size=(6, d))
    spread = rng.normal(size=(240, d)) * np.r_[0.05 * np.ones(d - 1), 1.0]
    unlabelled = (unlabelled_centres[np.repeat(np.arange(6), 40)] + spread).astype(np.float32)
    alone = within_class_whitening(features, labels, 0.15)
    refitted, count = with_pseudo_characters(features, labels, None, unlabelled, 0.15, PseudoFilter(resolution=1.0))
    assert count >= 4
    last = np.eye(d)[-1]
    assert np.linalg.norm(last @ refitted) < 0.5 * np.linalg.norm(last @ alone)


def test_protocol_binds_the_shrinkage_it_is_given_into_its_pseudo_character_heads(monkeypatch):
    """``--shrinkage`` (the sixteenth round) reaches the heads refitted with pseudo-characters:
    a head bound with 0.30 is the one :func:`with_pseudo_characters` fits at 0.30, not at 0.15."""
    from functools import partial
    from pathlib import Path

    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "bench"))
    import drawn_protocol

    rng = np.random.default_rng(2)
    labels = np.repeat(np.arange(3), 30)
    features = (3 * rng.normal(size=(3, 8))[labels] + rng.normal(size=(90, 8))).astype(np.float32)
    unlabelled = (6 * rng.normal(size=(6, 8))[np.repeat(np.arange(6), 40)] + 0.1 * rng.normal(size=(240, 8))).astype(np.float32)
    settings = PseudoFilter(resolution=1.0)
    fits = {"pseudo": partial(drawn_protocol.fit_with_pseudo, settings=settings)}
    drawn_protocol.bind_unlabelled(fits, unlabelled, 0.30)
    bound = fits["pseudo"](features, labels, None).matrix
    np.testing.assert_allclose(bound, with_pseudo_characters(features, labels, None, unlabelled, 0.30, settings)[0])
    assert not np.allclose(bound, with_pseudo_characters(features, labels, None, unlabelled, 0.15, settings)[0])
