"""The per-run transforms the drawn-face protocol compares (``bench/drawn_run_transforms.py``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from raypipe.embed.base import l2_normalize


@pytest.fixture
def transforms(monkeypatch):
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "bench"))
    import drawn_run_transforms

    return drawn_run_transforms


def test_reciprocal_averaging_merges_mutual_neighbours_and_leaves_a_one_sided_one_alone(transforms):
    """0 and 1 are each other's nearest; 1 is 2's nearest but 2 is not 1's: with k = 1, 0 and 1
    both become their mean direction, 2 stays as it was."""
    X = l2_normalize(np.array([[1.0, 0.0, 0.0], [0.95, 0.3, 0.0], [0.5, 0.8, 0.3]], np.float32))
    out = transforms.reciprocal_averaged(X, k=1)
    np.testing.assert_allclose(out[0], l2_normalize(X[:1] + X[1:2])[0], atol=1e-6)
    np.testing.assert_allclose(out[1], out[0], atol=1e-6)
    np.testing.assert_allclose(out[2], X[2], atol=1e-6)


def test_neighbour_averaging_adds_the_nearest_weighted_by_similarity_cubed(transforms):
    X = l2_normalize(np.array([[1.0, 0.0], [0.8, 0.6], [-1.0, 0.1]], np.float32))
    out = transforms.neighbour_averaged(X, k=1)
    similarity = float(X[0] @ X[1])
    np.testing.assert_allclose(out[0], l2_normalize(X[:1] + similarity**3 * X[1:2])[0], atol=1e-6)
    assert np.allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-6)


def test_run_whitening_makes_the_runs_leading_components_equally_spread(transforms, monkeypatch):
    """Without shrinkage and before unit length, the run's ``components`` leading directions come
    out with equal spread: a dimension 10 times wider than the others counts no more."""
    rng = np.random.default_rng(0)
    X = (rng.normal(size=(500, 6)) * np.array([10.0, 3.0, 1.0, 1.0, 1.0, 1.0])).astype(np.float32)
    seen = {}
    monkeypatch.setattr(transforms, "l2_normalize", lambda Z: seen.setdefault("Z", Z))
    assert transforms.run_whitened(X, shrinkage=0.0, components=2).shape == (500, 2)
    np.testing.assert_allclose(np.cov(seen["Z"].T, bias=True), np.eye(2), atol=1e-3)
