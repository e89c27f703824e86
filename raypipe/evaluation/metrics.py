"""Clustering quality against known labels, computed from one sparse contingency table.

Every score works on counts of (true class, predicted cluster) pairs, never on the n x n pairs
themselves, so scoring a million faces takes seconds. Unassigned predictions (``-1``) count as
singleton clusters: leaving a face out is not free, it costs recall.

>>> scores = score_clustering([0, 0, 1, 1], [5, 5, 5, -1])
>>> round(scores["pairwise_precision"], 3), scores["pairwise_recall"], scores["n_clusters"]
(0.333, 0.5, 1.0)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import min_weight_full_bipartite_matching

UNASSIGNED = -1


@dataclass(frozen=True)
class Contingency:
    """Non-zero cells of the class x cluster table, with the row and column totals."""

    true_index: np.ndarray  # class of each non-zero cell
    pred_index: np.ndarray  # cluster of each non-zero cell
    counts: np.ndarray  # faces in each non-zero cell
    true_sizes: np.ndarray  # faces per class
    pred_sizes: np.ndarray  # faces per cluster

    @property
    def n(self) -> int:
        return int(self.counts.sum())


def singletons_for_unassigned(pred_labels: np.ndarray) -> np.ndarray:
    """Labels with every ``-1`` replaced by a fresh singleton cluster id."""
    pred = np.asarray(pred_labels).astype(np.int64, copy=True)
    unassigned = pred == UNASSIGNED
    first_free = (pred.max() + 1) if pred.size else 0
    pred[unassigned] = first_free + np.arange(int(unassigned.sum()))
    return pred


def contingency(true_labels, pred_labels) -> Contingency:
    """Sparse contingency table of ``true_labels`` (any hashables) vs ``pred_labels`` (ints)."""
    true = np.asarray(true_labels)
    pred = singletons_for_unassigned(pred_labels)
    if true.shape != pred.shape or true.ndim != 1:
        raise ValueError(
            f"label arrays must be 1-d and equal length, got {true.shape} and {pred.shape}"
        )
    _, true_codes = np.unique(true, return_inverse=True)
    _, pred_codes = np.unique(pred, return_inverse=True)
    n_pred = int(pred_codes.max()) + 1 if pred.size else 0
    cells, counts = np.unique(true_codes.astype(np.int64) * n_pred + pred_codes, return_counts=True)
    return Contingency(
        true_index=cells // max(n_pred, 1),
        pred_index=cells % max(n_pred, 1),
        counts=counts,
        true_sizes=np.bincount(true_codes),
        pred_sizes=np.bincount(pred_codes),
    )


def _pairs(counts: np.ndarray) -> float:
    counts = counts.astype(np.float64)
    return float((counts * (counts - 1) / 2).sum())


def _ratio(numerator: float, denominator: float) -> float:
    """``numerator / denominator``, or 1.0 when nothing was claimed (no pairs to get wrong)."""
    return numerator / denominator if denominator > 0 else 1.0


def _f_score(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0


def pairwise_scores(table: Contingency) -> dict[str, float]:
    """Precision, recall and F1 over same-cluster face pairs, plus the Rand index and ARI."""
    together_both = _pairs(table.counts)
    together_true = _pairs(table.true_sizes)
    together_pred = _pairs(table.pred_sizes)
    all_pairs = _pairs(np.array([table.n]))
    precision = _ratio(together_both, together_pred)
    recall = _ratio(together_both, together_true)
    apart_both = all_pairs - together_true - together_pred + together_both
    rand = _ratio(together_both + apart_both, all_pairs)
    expected = together_true * together_pred / all_pairs if all_pairs else 0.0
    best = (together_true + together_pred) / 2
    ari = 1.0 if best == expected else (together_both - expected) / (best - expected)
    return {
        "pairwise_precision": precision,
        "pairwise_recall": recall,
        "pairwise_f": _f_score(precision, recall),
        "rand": rand,
        "ari": ari,
    }


def bcubed_scores(table: Contingency) -> dict[str, float]:
    """BCubed precision, recall and F1 (per-face averages, Bagga & Baldwin 1998)."""
    squared = table.counts.astype(np.float64) ** 2
    precision = float((squared / table.pred_sizes[table.pred_index]).sum() / table.n)
    recall = float((squared / table.true_sizes[table.true_index]).sum() / table.n)
    return {
        "bcubed_precision": precision,
        "bcubed_recall": recall,
        "bcubed_f": _f_score(precision, recall),
    }


def _entropy(sizes: np.ndarray, n: int) -> float:
    p = sizes[sizes > 0] / n
    return float(-(p * np.log(p)).sum())


def nmi(table: Contingency) -> float:
    """Mutual information normalised by the arithmetic mean of the two entropies."""
    n = table.n
    outer = (
        table.true_sizes[table.true_index].astype(np.float64) * table.pred_sizes[table.pred_index]
    )
    mutual_info = float((table.counts / n * np.log(table.counts * n / outer)).sum())
    h_true, h_pred = _entropy(table.true_sizes, n), _entropy(table.pred_sizes, n)
    if h_true == 0 and h_pred == 0:
        return 1.0
    return max(mutual_info, 0.0) / ((h_true + h_pred) / 2)


def purity(table: Contingency) -> float:
    """Share of faces that belong to the majority class of their cluster."""
    majority = np.zeros(len(table.pred_sizes), dtype=np.int64)
    np.maximum.at(majority, table.pred_index, table.counts)
    return float(majority.sum() / table.n)


def hungarian_accuracy(table: Contingency) -> float:
    """Share of faces correctly labelled under the best one-to-one class <-> cluster mapping.

    Solved as a sparse assignment: each class may also take a private dummy cluster worth 0,
    so classes outnumbering clusters (or sharing no face with a free one) stay feasible.
    """
    n_true, n_pred = len(table.true_sizes), len(table.pred_sizes)
    top = float(table.counts.max()) + 1.0
    rows = np.concatenate([table.true_index, np.arange(n_true)])
    cols = np.concatenate([table.pred_index, n_pred + np.arange(n_true)])
    costs = np.concatenate([top - table.counts, np.full(n_true, top)])
    graph = sparse.csr_matrix((costs, (rows, cols)), shape=(n_true, n_pred + n_true))
    matched_rows, matched_cols = np.arange(n_true), min_weight_full_bipartite_matching(graph)[1]
    gains = top - np.asarray(graph[matched_rows, matched_cols]).ravel()
    return float(gains.sum() / table.n)


def score_clustering(true_labels, pred_labels) -> dict[str, float]:
    """All scores of ``pred_labels`` (``-1`` = unassigned) against ``true_labels``."""
    table = contingency(true_labels, pred_labels)
    pred = np.asarray(pred_labels)
    pairwise, bcubed = pairwise_scores(table), bcubed_scores(table)
    keys = (
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
    )
    scores = {"nmi": nmi(table), "purity": purity(table), **pairwise, **bcubed}
    return {
        **{key: scores[key] for key in keys},
        "accuracy": hungarian_accuracy(table),
        "n_clusters": float(len(np.unique(pred[pred != UNASSIGNED]))),
        "n_true_clusters": float(len(table.true_sizes)),
    }
