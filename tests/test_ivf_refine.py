"""Neighbour-of-neighbour refinement after the IVF search: it finds neighbours the IVF missed
and never returns a worse k-NN than it was given."""

from __future__ import annotations

import numpy as np
import pytest

from raypipe.cluster import ivf
from raypipe.cluster.knn import nearest_neighbours
from raypipe.testing.realistic_faces import make_realistic_faces


@pytest.fixture(scope="module")
def X():
    return make_realistic_faces(3000, 64, seed=11).X


def exact_sims(X: np.ndarray, idx: np.ndarray, rows=slice(None)) -> np.ndarray:
    return np.einsum("qd,qkd->qk", X[rows], X[idx])


def test_refine_finds_a_neighbour_of_a_neighbour_missing_from_a_row():
    X = np.eye(4, dtype=np.float32)[[0, 0, 0, 1, 2, 3]]  # rows 0-2 one point, 3-5 far apart
    X[1, 3] = X[2, 3] = 0.1  # 0, 1 and 2 near each other, 1 and 2 nearest
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    table = np.array([[0, 1, 3], [1, 2, 0], [2, 1, 0], [3, 4, 5], [4, 3, 5], [5, 3, 4]])
    sims, idx = ivf.refine(X, table, 0, 1)  # row 0 missed 2, a neighbour of its neighbour 1
    assert set(idx[0]) == {0, 1, 2}
    np.testing.assert_allclose(sims[0], exact_sims(X, idx[:1], slice(0, 1))[0], atol=1e-6)


def test_refine_never_returns_a_worse_knn_than_its_input_and_keeps_missing_ones_last(X):
    table = nearest_neighbours(X, 106, queries=X, method="exact").indices  # itself first
    damaged = np.random.default_rng(0).permuted(table[:, [0, 1, 2, 3, 4, 5]], axis=1)
    damaged[:, 3:] = table[:, 100:103]  # three of the six replaced by far ones
    damaged[::7, -1] = -1
    before = np.sort(exact_sims(X, damaged), axis=1)[:, ::-1]
    before[::7, -1] = -np.inf
    sims, idx = ivf.refine(X, damaged, 0, len(X))
    assert (sims >= before - 1e-6).all()  # the j-th best is never worse than the input's j-th
    assert (np.diff(sims, axis=1) <= 0).all()
    assert all(len(set(row[row >= 0])) == (row >= 0).sum() for row in idx)  # no duplicates
    rows = slice(100, 300)  # a shard of the rows gives the same
    part = ivf.refine(X, damaged, rows.start, rows.stop)
    np.testing.assert_array_equal(part[1], idx[rows])


def test_refinement_finds_neighbours_a_two_cell_ivf_search_missed(X, monkeypatch):
    exact = nearest_neighbours(X, 8, method="exact")
    monkeypatch.setattr(ivf, "IVF_PROBES", 2)  # of 75 cells (one: neighbours share the cell)
    monkeypatch.setattr(ivf, "REFINE_ROUNDS", 0)
    plain = nearest_neighbours(X, 8, method="ivf")
    monkeypatch.setattr(ivf, "REFINE_ROUNDS", 1)
    refined = nearest_neighbours(X, 8, method="ivf")

    def recall(found):
        return np.mean([len(set(a) & set(b)) for a, b in zip(found.indices, exact.indices)]) / 8

    assert recall(plain) < 0.8 and recall(refined) > recall(plain) + 0.03  # 0.783 -> 0.828
    assert (refined.distances <= plain.distances + 1e-6).all()
    np.testing.assert_allclose(refined.distances, 1.0 - exact_sims(X, refined.indices), atol=1e-6)
    assert not (refined.indices == np.arange(len(X))[:, None]).any()  # itself excluded


def test_refinement_in_ray_tasks_gives_the_in_process_refined_neighbours(
    X, ray_session, monkeypatch
):
    from raypipe.cluster import knn_shards

    monkeypatch.setattr(knn_shards, "SHARD_ROWS", 700)  # five shards, each refined by a task
    monkeypatch.setattr(ivf, "IVF_PROBES", 2)
    monkeypatch.setattr(ivf, "REFINE_ROUNDS", 0)
    plain = nearest_neighbours(X, 8, method="ivf-shards")
    monkeypatch.setattr(ivf, "REFINE_ROUNDS", 2)
    sharded = nearest_neighbours(X, 8, method="ivf-shards")
    in_process = nearest_neighbours(X, 8, method="ivf")
    assert np.mean([set(a) == set(b) for a, b in zip(sharded.indices, in_process.indices)]) >= 0.999
    assert (sharded.distances <= plain.distances + 1e-6).all()
    assert (sharded.distances < plain.distances - 1e-6).any(axis=1).mean() > 0.1
