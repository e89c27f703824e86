"""Clusterers: recovering synthetic identities, cannot-link, size limits, incremental updates."""

import numpy as np
import pandas as pd
import pytest

from raypipe.cluster import CLUSTERERS
from raypipe.cluster.agglomerative import Agglomerative
from raypipe.cluster.auto import AutoClusterer
from raypipe.cluster.base import TooManyFacesError
from raypipe.cluster.constraints import enforce_cannot_link
from raypipe.cluster.density import DBSCAN
from raypipe.cluster.finch import FINCH
from raypipe.cluster.incremental import assign_incremental
from raypipe.cluster.knn import nearest_neighbours, neighbour_graph
from raypipe.evaluation.metrics import score_clustering
from raypipe.testing.embeddings import make_faces

ALL = [
    "auto",
    "agglomerative",
    "kmeans",
    "minibatch-kmeans",
    "dbscan",
    "hdbscan",
    "chinese-whispers",
    "knn-graph",
    "leiden",
    "infomap",
    "finch",
]
#: Synthetic same-identity pairs lie at cosine distance ~0.45, other pairs at ~1.
THRESHOLDS = {
    "auto": 0.6,
    "agglomerative": 0.6,
    "dbscan": 0.55,
    "chinese-whispers": 0.55,
    "knn-graph": 0.55,
    "leiden": 0.55,
    "infomap": 0.55,
    "finch": 0.6,
}


#: A narrower k range keeps the k-means searches fast.
K_RANGE = {"k_min": 20, "k_max": 60, "k_steps": 4}


def spec(name: str, **extra) -> dict:
    settings = {"threshold": THRESHOLDS[name]} if name in THRESHOLDS else {}
    if name.endswith("kmeans"):
        settings = K_RANGE
    return {"name": name, **settings, **extra}


@pytest.fixture(scope="module")
def faces():
    return make_faces(400, 128, mean_size=10, zipf_a=0.0, noise_fraction=0.0, seed=3)


@pytest.fixture(scope="module")
def group_photos(faces):
    """Image ids: most images hold faces of two different people, some two of the same person."""
    rng = np.random.default_rng(0)
    return rng.permutation(len(faces.labels)) // 2


def test_registry_lists_every_clusterer():
    assert set(ALL) <= set(CLUSTERERS.names())


@pytest.mark.parametrize("name", ALL)
def test_recovers_well_separated_identities(name, faces):
    labels = CLUSTERERS.build(spec(name, cannot_link=False)).fit(faces.X).labels_
    assert labels.shape == faces.labels.shape
    scores = score_clustering(faces.labels, labels)
    assert scores["pairwise_f"] >= 0.95, scores
    assert scores["bcubed_f"] >= 0.95, scores


@pytest.mark.parametrize("name", ALL)
def test_cannot_link_keeps_faces_of_one_image_apart(name, faces, group_photos):
    labels = (
        CLUSTERERS.build(spec(name, cannot_link=True)).fit(faces.X, groups=group_photos).labels_
    )
    rows = pd.DataFrame({"cluster": labels, "image": group_photos})
    assert not rows[rows.cluster >= 0].duplicated().any()
    assert score_clustering(faces.labels, labels)["bcubed_f"] >= 0.85


def test_auto_applies_cannot_link_by_default(faces, group_photos):
    labels = AutoClusterer(threshold=0.6).fit(faces.X, groups=group_photos).labels_
    rows = pd.DataFrame({"cluster": labels, "image": group_photos})
    assert not rows.duplicated().any()


def test_cannot_link_moves_the_farther_face_to_the_next_cluster():
    X = np.array([[1, 0], [0.99, 0.14], [0.8, 0.6], [0, 1], [0.1, 0.99]], dtype=np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    labels = np.array([0, 0, 0, 1, 1])  # face 2 (image 7) leans towards cluster 1
    groups = np.array([7, 8, 7, 9, 10])
    assert enforce_cannot_link(X, labels, groups).tolist() == [0, 0, 1, 1, 1]
    assert enforce_cannot_link(X, labels, groups, max_distance=0.05).tolist() == [0, 0, 2, 1, 1]


def test_auto_is_exact_average_linkage_on_a_small_set(faces):
    auto = (
        AutoClusterer(threshold=0.6, cannot_link=False, attach_leftovers=False).fit(faces.X).labels_
    )
    exact = Agglomerative(linkage="average", threshold=0.6).fit(faces.X).labels_
    assert score_clustering(exact, auto)["ari"] == pytest.approx(1.0)


def test_auto_on_the_faiss_graph_and_with_oversized_components_split(faces):
    large_path = AutoClusterer(threshold=0.6, exact_limit=50, knn_method="auto").fit(faces.X)
    assert score_clustering(faces.labels, large_path.labels_)["pairwise_f"] >= 0.95
    split = AutoClusterer(threshold=0.9, component_limit=30, cannot_link=False).fit(faces.X)
    assert (
        np.bincount(split.labels_).max() <= 30
    )  # a 0.9 cut alone joins everyone into one component
    assert score_clustering(faces.labels, split.labels_)["pairwise_f"] >= 0.9


def test_auto_attaches_a_leftover_near_a_cluster_centre_but_not_a_far_one():
    def unit(degrees: float, axis: int) -> list[float]:  # e1 turned towards e_axis
        vector = np.zeros(4)
        vector[0], vector[axis] = np.cos(np.radians(degrees)), np.sin(np.radians(degrees))
        return vector.tolist()

    cluster = [unit(a, 1) for a in (-5, 0, 5)]  # pairwise cosine distances under 0.02
    other = [[0, 1, 0, 0], [0, 0.99, 0.1, 0], [0, 0.99, -0.1, 0]]
    near, far = unit(40, 3), [0, 0, 0.7, 0.7]  # 0.23 from the first centre; ~1 from both
    X = np.array(cluster + other + [near, far])
    auto = AutoClusterer(threshold=0.1, leftover_distance=0.3).fit(X)
    assert auto.labels_[6] == auto.labels_[0]  # the near face joins the first cluster
    assert np.sum(auto.labels_ == auto.labels_[7]) == 1  # the far one stays alone
    assert len(np.unique(auto.labels_)) == 3


@pytest.mark.parametrize("clusterer", [Agglomerative(max_n=100), DBSCAN(threshold=0.5, max_n=100)])
def test_quadratic_clusterers_refuse_large_sets_naming_an_alternative(clusterer, faces):
    with pytest.raises(TooManyFacesError, match="max_n=100.*chinese-whispers"):
        clusterer.fit(faces.X)


def test_the_calibrated_threshold_of_the_named_model_changes_the_result(faces, monkeypatch):
    from raypipe.cluster import calibration

    def n_clusters(name: str, model: str) -> int:
        labels = CLUSTERERS.build({"name": name, "model": model}).fit(faces.X).labels_
        return len(np.unique(labels[labels >= 0])) + int((labels < 0).sum())  # noise: singletons

    people = len(np.unique(faces.labels))
    for name in ("auto", "agglomerative", "dbscan", "chinese-whispers", "finch"):
        # synthetic same-person pairs sit ~0.45 apart: inside ArcFace's thresholds, outside dlib's
        assert n_clusters(name, "arcface-512") <= 1.1 * people, name
        assert n_clusters(name, "dlib-resnet-128") > 2 * people, name
    monkeypatch.setitem(
        calibration.CALIBRATION, "arcface-512", calibration.SamePerson(0.05, 0.05, 0.05)
    )
    assert n_clusters("auto", "arcface-512") > 2 * people


def test_vectors_of_no_calibrated_model_get_the_data_driven_threshold(faces):
    from raypipe.cluster.calibration import data_driven_threshold

    auto = CLUSTERERS.build({"name": "auto", "model": "feature:color-hist"}).fit(faces.X)
    assert auto.threshold_ == pytest.approx(data_driven_threshold(faces.X))
    assert auto.leftover_distance_ == 0.0  # no calibrated leftover cut: no face left alone is moved
    assert score_clustering(faces.labels, auto.labels_)["pairwise_f"] > 0.9
    for name in ("agglomerative", "dbscan", "leiden", "finch"):  # no dimension guessing, no error
        labels = CLUSTERERS.build({"name": name}).fit(faces.X[:, :100]).labels_
        assert score_clustering(faces.labels, labels)["bcubed_f"] > 0.8, name


def test_finch_cuts_at_a_requested_number_of_clusters(faces):
    finch = FINCH(n_clusters=25).fit(faces.X)
    assert len(np.unique(finch.labels_)) == 25
    assert len(finch.partitions_) >= 2


@pytest.mark.parametrize(("method", "min_recall"), [("ivf", 0.85), ("hnsw", 0.95)])
def test_faiss_neighbours_agree_with_exact_search(method, min_recall):
    X = make_faces(4000, 64, seed=1).X
    exact = nearest_neighbours(X, 5, method="exact")
    approx = nearest_neighbours(X, 5, method=method)
    assert not (exact.indices == np.arange(len(X))[:, None]).any()
    recall = np.mean([len(set(a) & set(b)) / 5 for a, b in zip(exact.indices, approx.indices)])
    assert recall >= min_recall  # IVF visits only 8 cells a query: speed over recall
    graph = neighbour_graph(exact, max_distance=0.6)
    assert (graph != graph.T).nnz == 0


def test_incremental_keeps_old_ids_and_numbers_new_people_after_them():
    data = make_faces(600, 128, mean_size=15, noise_fraction=0.0, seed=5)
    known = data.labels < data.labels.max() * 0.7  # identities of the old run, plus new ones
    old_rows = np.flatnonzero(known)[::2]
    new_rows = np.setdiff1d(np.arange(600), old_rows)
    old_labels = AutoClusterer(threshold=0.6).fit(data.X[old_rows]).labels_ + 100
    new_labels = assign_incremental(
        data.X[old_rows],
        old_labels,
        data.X[new_rows],
        threshold=0.55,
        clusterer={"name": "auto", "threshold": 0.6},
    )
    old_id_of_person = dict(zip(data.labels[old_rows], old_labels))
    for row, label in zip(new_rows, new_labels):
        person = data.labels[row]
        if person in old_id_of_person:
            assert label == old_id_of_person[person]
        else:
            assert label > old_labels.max()
    combined = np.concatenate([old_labels, new_labels])
    truth = np.concatenate([data.labels[old_rows], data.labels[new_rows]])
    assert score_clustering(truth, combined)["pairwise_f"] >= 0.95


def test_leiden_given_n_clusters_searches_its_resolution_to_that_many_communities(faces):
    """The default resolution finds the 40 identities; asked for 25 or 60 on the graph of every
    k-NN edge, the searched resolution gives exactly that many communities. Where identities
    share no edge (a graph cut at 0.55), no resolution merges them: the nearest count, 40."""
    from raypipe.cluster.graph import Leiden

    found = len(np.unique(Leiden(threshold=0.55).fit(faces.X).labels_))
    assert found == len(np.unique(faces.labels)) == 40
    for wanted in (25, 60):
        leiden = Leiden(threshold=2.0, n_clusters=wanted).fit(faces.X)
        assert len(np.unique(leiden.labels_)) == wanted
        assert (leiden.resolution_ < 1.0) is (wanted < found)
    assert len(np.unique(Leiden(threshold=0.55, n_clusters=25).fit(faces.X).labels_)) == 40


def test_auto_given_n_clusters_for_a_model_without_communities_runs_k_means(faces):
    from raypipe.cluster.kmeans import KMeans

    auto = AutoClusterer(model="arcface-512", n_clusters=30, cannot_link=False).fit(faces.X)
    np.testing.assert_array_equal(auto.labels_, KMeans(n_clusters=30).fit(faces.X).labels_)
    assert len(np.unique(auto.labels_)) == 30
