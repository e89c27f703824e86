"""The drawn path at scale: the run standardised in blocks (one copy of the vectors), and
the resolution searched given ``n_clusters`` high enough for any count up to n faces."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from raypipe.cluster import base
from raypipe.cluster.graph import Leiden
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


def pairs_graph(pairs: int, weight: float = 0.8):
    """``pairs`` faces linked in pairs, nothing else: every face alone only above ``2m / w``."""
    from scipy import sparse

    rows = np.arange(0, 2 * pairs, 2)
    edges = sparse.coo_matrix((np.full(pairs, weight), (rows, rows + 1)), shape=(2 * pairs,) * 2)
    return (edges + edges.T).tocsr()


def test_singleton_resolution_is_where_leiden_leaves_every_face_alone():
    import leidenalg

    from raypipe.cluster.graph import _igraph, singleton_resolution
    from raypipe.cluster.knn import nearest_neighbours, neighbour_graph
    from raypipe.testing.embeddings import make_faces

    faces = make_faces(400, 32, mean_size=8, zipf_a=0.0, noise_fraction=0.0, seed=3)
    graph = neighbour_graph(nearest_neighbours(faces.X, 15, method="exact"), 0.9)
    top = singleton_resolution(graph, "modularity")

    def count(resolution):
        partition = leidenalg.find_partition(
            _igraph(graph),
            leidenalg.RBConfigurationVertexPartition,
            weights="weight",
            resolution_parameter=resolution,
            seed=0,
        )
        return len(set(partition.membership))

    assert count(1.001 * top) == 400
    assert count(0.9 * top) < 400
    assert singleton_resolution(graph, "cpm") == pytest.approx(graph.data.max())


def test_leiden_given_n_clusters_searches_past_resolution_100_when_the_graph_needs_it():
    """1,500 pairs: every face alone needs a resolution of 3,000, beyond the fixed range's 100."""
    assert Leiden(n_clusters=3000)._communities(pairs_graph(1500)).max() + 1 == 3000
    assert Leiden(n_clusters=1500)._communities(pairs_graph(1500)).max() + 1 == 1500
