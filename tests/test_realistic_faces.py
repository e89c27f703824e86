"""The realistic synthetic embeddings reproduce the real ArcFace statistics stored beside them."""

from __future__ import annotations

import numpy as np
import pytest

from raypipe.testing.embeddings import make_faces
from raypipe.testing.realistic_faces import (
    fitted_statistics,
    make_realistic_faces,
    person_statistics,
    similarity_quantiles,
)

#: The real set (LFW, ArcFace) has at most 30 faces a person: compare like with like.
REAL_MAX_SIZE = 30
TOLERANCE = 0.05


def largest_gap(simulated: dict, real: dict, kinds: tuple[str, ...]) -> float:
    return max(np.abs(np.subtract(simulated[k], real[k])).max() for k in kinds)


@pytest.mark.parametrize("dim", [128, 512])
def test_same_and_different_identity_quantiles_within_0_05_of_real_arcface(dim):
    data = make_realistic_faces(3000, dim, seed=1, max_size=REAL_MAX_SIZE)
    simulated = similarity_quantiles(data.X, data.labels)
    assert largest_gap(simulated, fitted_statistics()["real"], ("same", "different")) <= TOLERANCE


def test_between_person_tail_and_per_person_spread_within_0_05_of_real_arcface():
    data = make_realistic_faces(3000, 128, seed=2, max_size=REAL_MAX_SIZE)
    sizes = np.bincount(data.labels)
    people = sizes[data.labels] > 1  # noise faces are no person
    simulated = person_statistics(data.X[people], data.labels[people])
    real = fitted_statistics()["real"]
    assert largest_gap(simulated, real, ("between_person", "within_person")) <= TOLERANCE


def test_separable_generator_fails_the_quantile_check():
    """The check can fail: the old, easy generator is far from real same-person similarities."""
    data = make_faces(3000, 128, seed=1)
    simulated = similarity_quantiles(data.X, data.labels)
    assert largest_gap(simulated, fitted_statistics()["real"], ("same",)) > TOLERANCE


def test_identity_sizes_long_tailed_with_fitted_noise_share():
    params = fitted_statistics()["params"]
    data = make_realistic_faces(20_000, 16, seed=3)
    sizes = np.bincount(data.labels)
    assert len(data.labels) == 20_000
    assert (sizes == 1).sum() / 20_000 == pytest.approx(params["noise_share"], abs=0.005)
    people = sizes[sizes >= params["min_size"]]
    assert 0.6 < np.mean(people <= 9) < 0.98  # most people have a few faces ...
    assert people.max() >= 100  # ... a few have many


def test_faces_are_unit_vectors_of_the_requested_dimension_and_seeded():
    first = make_realistic_faces(500, 64, seed=4)
    assert first.X.shape == (500, 64) and first.X.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(first.X, axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(first.X, make_realistic_faces(500, 64, seed=4).X)
