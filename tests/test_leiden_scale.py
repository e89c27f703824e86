"""The drawn path at scale: the run standardised in blocks, one copy of the vectors."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from raypipe.cluster import base
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
