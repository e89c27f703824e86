"""The drawn path at scale: the run standardised in blocks, the resolution search given k."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from raypipe.cluster import base
from raypipe.cluster.graph import RESOLUTION_STEPS, Leiden
from raypipe.embed.base import l2_normalize


def whole_array_standardised(X: np.ndarray) -> np.ndarray:
    """The formula of ``run_standardised`` on the whole array at once (four full-size copies)."""
    centred = base.unit_rows(X) - base.unit_rows(X).mean(axis=0)
    return l2_normalize(centred / np.maximum(centred.std(axis=0), 1e-6))


def styled_faces(n: int, dim: int, seed: int = 0) -> np.ndarray:
    """Random rows sharing an offset, so that centring and scaling matter."""
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(n, dim)) + 3.0 * rng.random(dim)).astype(np.float32)


@pytest.mark.parametrize(("n", "block"), [(1000, 7), (1000, 1000), (2500, 1024), (5, 1)])
def test_run_standardised_in_blocks_equals_the_whole_array_formula_bit_for_bit(
    monkeypatch, n, block
):
    monkeypatch.setattr(base, "STANDARDISE_BLOCK", block)
    X = styled_faces(n, 549)
    np.testing.assert_array_equal(base.run_standardised(X), whole_array_standardised(X))


def test_run_standardised_holds_one_copy_of_the_vectors_not_four(monkeypatch):
    """Its temporaries are blocks: the peak beyond the input is the output and a few blocks."""
    monkeypatch.setattr(base, "STANDARDISE_BLOCK", 1000)
    X = l2_normalize(styled_faces(40_000, 64))  # unit rows: not copied by unit_rows
    tracemalloc.start()
    try:
        base.run_standardised(X)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1.5 * X.nbytes


def counted(count_at):
    """A stand-in for one Leiden pass: ``count_at(resolution)`` communities of 10,000 faces."""

    def at(resolution: float) -> np.ndarray:
        return np.arange(10_000) % count_at(resolution)

    return at


def test_resolution_search_interpolates_to_n_clusters_in_fewer_passes_than_bisection():
    """Communities grow about as a power of the resolution: once bracketed, the interpolation
    lands on ``n_clusters`` where bisection (one pass per halving of the log range) needs more."""
    leiden = Leiden(n_clusters=1234)
    labels = leiden._searched(counted(lambda r: max(1, round(40 * r**0.9))))
    assert labels.max() + 1 == 1234
    assert leiden.resolution_steps_ <= 7
    assert 40 * leiden.resolution_**0.9 == pytest.approx(1234, abs=0.5)


def test_resolution_search_keeps_the_nearest_count_when_n_clusters_is_never_hit():
    """Counts jump over ``n_clusters`` (only even counts): the nearest one found is kept, within
    :data:`RESOLUTION_STEPS` passes."""
    leiden = Leiden(n_clusters=301)
    labels = leiden._searched(counted(lambda r: 2 * max(1, round(20 * r))))
    assert abs(labels.max() + 1 - 301) == 1
    assert leiden.resolution_steps_ <= RESOLUTION_STEPS
