"""The IVF stores its vectors in float16 and re-scores its candidates exactly: the distances it
returns are the float32 vectors' own, and its neighbours those of float32 lists."""

from __future__ import annotations

import numpy as np
import pytest

from raypipe.cluster import ivf
from raypipe.cluster.knn import nearest_neighbours
from raypipe.testing.realistic_faces import make_realistic_faces


@pytest.fixture(scope="module")
def X():
    return make_realistic_faces(3000, 64, seed=7).X


def exact_distances(X: np.ndarray, indices: np.ndarray) -> np.ndarray:
    return 1.0 - np.einsum("qd,qkd->qk", X, X[indices])


def test_the_default_ivf_stores_float16_and_returns_the_exact_float32_distances_of_its_neighbours(
    X,
):
    assert ivf.approximate(ivf.ivf_index(X, seed=0))
    found = nearest_neighbours(X, 8, method="ivf")
    np.testing.assert_allclose(found.distances, exact_distances(X, found.indices), atol=1e-6)
    assert (np.diff(found.distances, axis=1) >= 0).all()  # nearest first


def test_float16_lists_find_the_neighbours_of_float32_lists(X, monkeypatch):
    rescored = nearest_neighbours(X, 8, method="ivf")
    monkeypatch.setattr(ivf, "IVF_CODES", "flat")
    flat = nearest_neighbours(X, 8, method="ivf")
    same = np.mean([set(a) == set(b) for a, b in zip(rescored.indices, flat.indices)])
    assert same >= 0.999
    shared = rescored.indices == flat.indices
    np.testing.assert_allclose(rescored.distances[shared], flat.distances[shared], atol=1e-6)


def test_rescore_keeps_the_k_best_candidates_by_exact_inner_product_and_puts_missing_ones_last(X):
    candidates = np.array([[-1, 40, 3, 900, 7], [5, -1, -1, -1, -1]])
    sims, idx = ivf.rescore(X, X[:2], candidates, 3)
    exact = X[:1] @ X[[40, 3, 900, 7]].T
    best = np.array([40, 3, 900, 7])[np.argsort(-exact[0])[:3]]
    np.testing.assert_array_equal(idx[0], best)
    np.testing.assert_allclose(sims[0], X[0] @ X[best].T, atol=1e-6)
    assert idx[1, 0] == 5 and (idx[1, 1:] == -1).all() and np.isneginf(sims[1, 1:]).all()
