"""k nearest neighbours by cosine distance: exact for small sets, faiss for large ones.

Below ``exact_limit`` points the search is exact (blocked matrix products, never more than
``BLOCK_ROWS`` x n similarities in memory). Above it, faiss builds an approximate index: IVF
(inverted lists over k-means cells, the default) or HNSW; above ``shard_limit`` points the IVF
search runs in parallel Ray tasks over an index on disk (:mod:`raypipe.cluster.knn_shards`).
No n x n matrix is ever built.
Rows must be L2-normalised, so inner product = cosine similarity and distance = 1 - similarity.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from scipy import sparse

log = logging.getLogger(__name__)

EXACT_LIMIT = 20_000
#: Above this many points, ``auto`` searches in Ray tasks (Ray's start-up pays off).
SHARD_LIMIT = 500_000
BLOCK_ROWS = 2048
#: IVF: training points per cell, and cells visited per query. 32 cells, not 8: on 100k
#: realistic synthetic faces (1,264 cells) 8 found 0.90 of the same-person edges and split people
#: (BCubed F 0.964, 16,416 clusters for 12,277 people), 32 found 0.93 (F 0.976, 14,539 clusters)
#: for 1.6x the clustering's CPU time (``bench/scale_quality.py``).
IVF_TRAIN_PER_LIST = 20
IVF_PROBES = 32
METHODS = ("auto", "exact", "ivf", "hnsw", "ivf-shards")


@dataclass(frozen=True)
class Neighbours:
    """``indices[i, j]``: the j-th nearest point of query i (-1: none), at ``distances[i, j]``."""

    indices: np.ndarray
    distances: np.ndarray


def _exact_search(
    index_X: np.ndarray, queries: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` inner products of every query, block by block."""
    k = min(k, len(index_X))
    sims = np.empty((len(queries), k), dtype=np.float32)
    idx = np.empty((len(queries), k), dtype=np.int64)
    for start in range(0, len(queries), BLOCK_ROWS):
        block = queries[start : start + BLOCK_ROWS] @ index_X.T
        top = np.argpartition(-block, k - 1, axis=1)[:, :k]
        top_sims = np.take_along_axis(block, top, axis=1)
        order = np.argsort(-top_sims, axis=1, kind="stable")
        idx[start : start + len(block)] = np.take_along_axis(top, order, axis=1)
        sims[start : start + len(block)] = np.take_along_axis(top_sims, order, axis=1)
    return sims, idx


def ivf_index(index_X: np.ndarray, seed: int):
    """An empty IVF over ``4 sqrt(n)`` spherical k-means cells, trained briefly on a sample."""
    import faiss

    n, dim = index_X.shape
    n_lists = int(np.clip(4 * np.sqrt(n), 16, max(16, n // 40)))
    sample = np.random.default_rng(seed).choice(
        n, min(n, IVF_TRAIN_PER_LIST * n_lists), replace=False
    )
    kmeans = faiss.Kmeans(
        dim,
        n_lists,
        niter=10,
        spherical=True,
        seed=seed,
        min_points_per_centroid=1,
        max_points_per_centroid=IVF_TRAIN_PER_LIST,
    )
    kmeans.train(index_X[np.sort(sample)])
    quantizer = faiss.IndexFlatIP(dim)
    quantizer.add(kmeans.centroids)
    index = faiss.IndexIVFFlat(quantizer, dim, n_lists, faiss.METRIC_INNER_PRODUCT)
    index.nprobe = IVF_PROBES
    return index


def _hnsw_index(dim: int):
    import faiss

    index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = 64
    index.hnsw.efSearch = 64
    return index


def _faiss_search(index_X: np.ndarray, queries: np.ndarray, k: int, method: str, seed: int):
    index = _hnsw_index(index_X.shape[1]) if method == "hnsw" else ivf_index(index_X, seed)
    index.add(index_X)
    return index.search(queries, k)


def nearest_neighbours(
    X: np.ndarray,
    k: int,
    queries: np.ndarray | None = None,
    *,
    method: str = "auto",
    exact_limit: int = EXACT_LIMIT,
    shard_limit: int = SHARD_LIMIT,
    seed: int = 0,
) -> Neighbours:
    """The ``k`` nearest rows of ``X`` for each query (None: each row of X, itself excluded).

    ``method``: ``exact``, ``ivf``, ``hnsw``, ``ivf-shards`` (IVF in Ray tasks; self-search
    only), or ``auto`` (exact up to ``exact_limit`` rows of X, IVF up to ``shard_limit``,
    ``ivf-shards`` above). A float32 ``X`` (a memmap included) is not copied by ``ivf-shards``.
    """
    if method not in METHODS:
        raise ValueError(f"unknown k-NN method {method!r}; choose one of {METHODS}")
    self_search = queries is None
    if method == "auto":
        method = (
            "exact" if len(X) <= exact_limit else "ivf" if len(X) <= shard_limit else "ivf-shards"
        )
        method = method if self_search or method != "ivf-shards" else "ivf"
    wanted = k + 1 if self_search else k
    log.debug("k-NN: %d points, k=%d, method=%s", len(X), k, method)
    if method == "ivf-shards":
        if not self_search:
            raise ValueError("the ivf-shards k-NN method searches a set among itself: queries=None")
        from raypipe.cluster.knn_shards import sharded_ivf_search
        from raypipe.ray_session import ensure_ray

        ensure_ray()
        sims, idx = sharded_ivf_search(X, min(wanted, len(X)), seed=seed)
        return _neighbours(*_drop_self(sims, idx))
    X = np.ascontiguousarray(X, dtype=np.float32)
    Q = X if self_search else np.ascontiguousarray(queries, dtype=np.float32)
    if method == "exact":
        sims, idx = _exact_search(X, Q, wanted)
    else:
        sims, idx = _faiss_search(X, Q, min(wanted, len(X)), method, seed)
    if self_search:
        sims, idx = _drop_self(sims, idx)
    return _neighbours(sims, idx)


def _neighbours(sims: np.ndarray, idx: np.ndarray) -> Neighbours:
    distances = np.where(idx >= 0, 1.0 - sims, np.inf).astype(np.float32)
    return Neighbours(indices=idx.astype(np.int64), distances=distances)


def _drop_self(sims: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Remove each row's own index from its neighbours (or its farthest one if self is missing)."""
    is_self = idx == np.arange(len(idx))[:, None]
    is_self[~is_self.any(axis=1), -1] = True
    keep = ~is_self
    shape = (len(idx), idx.shape[1] - 1)
    return sims[keep].reshape(shape), idx[keep].reshape(shape)


def neighbour_graph(neighbours: Neighbours, max_distance: float) -> sparse.csr_matrix:
    """Symmetric graph of k-NN edges no longer than ``max_distance``, weighted by similarity."""
    n = len(neighbours.indices)
    keep = (neighbours.indices >= 0) & (neighbours.distances <= max_distance)
    indptr = np.r_[0, np.cumsum(keep.sum(axis=1))]
    cols = neighbours.indices[keep].astype(np.int32 if n < 2**31 else np.int64)
    weights = np.clip(1.0 - neighbours.distances[keep], 1e-6, None)
    graph = sparse.csr_matrix((weights, cols, indptr), shape=(n, n))  # row by row: no COO copy
    return graph.maximum(graph.T).tocsr()
