"""Clustering metrics: against scikit-learn where they coincide, and small cases worked by hand."""

import itertools

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment
from sklearn import metrics as skm

from raypipe.evaluation.metrics import (
    contingency,
    hungarian_accuracy,
    score_clustering,
    singletons_for_unassigned,
)

KEYS = [
    "nmi",
    "ari",
    "rand",
    "purity",
    "pairwise_precision",
    "pairwise_recall",
    "pairwise_f",
    "bcubed_precision",
    "bcubed_recall",
    "bcubed_f",
    "accuracy",
    "n_clusters",
    "n_true_clusters",
]


def random_labelling(seed: int, n: int = 300):
    rng = np.random.default_rng(seed)
    true = rng.integers(0, 12, n)
    pred = np.where(rng.random(n) < 0.7, true, rng.integers(0, 20, n))
    pred[rng.random(n) < 0.1] = -1
    return true, pred


def brute_force_pairs(true, pred):
    """Pair counts by enumerating all pairs (the quadratic definition)."""
    pred = singletons_for_unassigned(pred)
    same_true = same_pred = both = 0
    for i, j in itertools.combinations(range(len(true)), 2):
        same_true += true[i] == true[j]
        same_pred += pred[i] == pred[j]
        both += true[i] == true[j] and pred[i] == pred[j]
    return both / same_pred, both / same_true


def brute_force_bcubed(true, pred):
    pred = singletons_for_unassigned(pred)
    precision = np.mean([np.mean(true[pred == pred[i]] == true[i]) for i in range(len(true))])
    recall = np.mean([np.mean(pred[true == true[i]] == pred[i]) for i in range(len(true))])
    return precision, recall


def test_keys_are_exactly_the_contract():
    assert list(score_clustering([0, 1], [0, 1])) == KEYS


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_scikit_learn_where_definitions_coincide(seed):
    true, pred = random_labelling(seed)
    scores = score_clustering(true, pred)
    as_singletons = singletons_for_unassigned(pred)
    assert scores["nmi"] == pytest.approx(skm.normalized_mutual_info_score(true, as_singletons))
    assert scores["ari"] == pytest.approx(skm.adjusted_rand_score(true, as_singletons))
    assert scores["rand"] == pytest.approx(skm.rand_score(true, as_singletons))
    fowlkes_mallows = np.sqrt(scores["pairwise_precision"] * scores["pairwise_recall"])
    assert fowlkes_mallows == pytest.approx(skm.fowlkes_mallows_score(true, as_singletons))


@pytest.mark.parametrize("seed", [3, 4])
def test_pair_and_bcubed_counts_match_their_quadratic_definitions(seed):
    true, pred = random_labelling(seed, n=120)
    scores = score_clustering(true, pred)
    precision, recall = brute_force_pairs(true, pred)
    assert scores["pairwise_precision"] == pytest.approx(precision)
    assert scores["pairwise_recall"] == pytest.approx(recall)
    precision, recall = brute_force_bcubed(true, pred)
    assert scores["bcubed_precision"] == pytest.approx(precision)
    assert scores["bcubed_recall"] == pytest.approx(recall)


@pytest.mark.parametrize("seed", [5, 6, 7])
def test_sparse_hungarian_matches_dense_assignment(seed):
    true, pred = random_labelling(seed)
    table = np.asarray(skm.cluster.contingency_matrix(true, singletons_for_unassigned(pred)))
    rows, cols = linear_sum_assignment(table, maximize=True)
    assert hungarian_accuracy(contingency(true, pred)) == pytest.approx(
        table[rows, cols].sum() / len(true)
    )


def test_hand_worked_example():
    # classes: A = {0,1,2}, B = {3,4}; clusters: {0,1}, {2,3,4}, face 5 of class C unassigned.
    true = np.array(["A", "A", "A", "B", "B", "C"])
    pred = np.array([0, 0, 1, 1, 1, -1])
    s = score_clustering(true, pred)
    # predicted pairs: (0,1) + (2,3),(2,4),(3,4) = 4, of which (0,1),(3,4) are true: P = 2/4.
    # true pairs: A has 3, B has 1 = 4, of which 2 are found: R = 2/4.
    assert s["pairwise_precision"] == pytest.approx(0.5)
    assert s["pairwise_recall"] == pytest.approx(0.5)
    assert s["pairwise_f"] == pytest.approx(0.5)
    # BCubed precision per face: 1, 1, 1/3, 2/3, 2/3, 1 -> 14/3 / 6.
    assert s["bcubed_precision"] == pytest.approx(14 / 18)
    # BCubed recall per face: 2/3, 2/3, 1/3, 1, 1, 1 -> 14/3 / 6.
    assert s["bcubed_recall"] == pytest.approx(14 / 18)
    # purity: majorities 2 (A in {0,1}), 2 (B in {2,3,4}), 1 (singleton) -> 5/6.
    assert s["purity"] == pytest.approx(5 / 6)
    # best mapping: A->{0,1} (2), B->{2,3,4} (2), C->singleton (1) -> 5/6.
    assert s["accuracy"] == pytest.approx(5 / 6)
    # 15 pairs: 2 true-together found, 9 apart in both (15 - 4 - 4 + 2) -> Rand = 11/15.
    assert s["rand"] == pytest.approx(11 / 15)
    assert s["n_clusters"] == 2 and s["n_true_clusters"] == 3


def test_perfect_clustering_scores_one_everywhere():
    true = np.repeat(np.arange(5), 4)
    s = score_clustering(true, 10 + true)
    for key in KEYS[:-2]:
        assert s[key] == pytest.approx(1.0), key


def test_all_unassigned_means_no_recall():
    s = score_clustering([0, 0, 0, 1, 1], [-1] * 5)
    assert s["pairwise_recall"] == 0.0 and s["pairwise_precision"] == 1.0
    assert s["bcubed_precision"] == 1.0
    assert s["n_clusters"] == 0
