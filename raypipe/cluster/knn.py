"""k nearest neighbours by cosine distance: exact for small sets, faiss for large ones.

Below ``exact_limit`` points the search is exact (blocked matrix products, never more than
``BLOCK_ROWS`` x n similarities in memory). Above it, faiss builds an approximate index: IVF
(inverted lists over k-means cells, the default) or HNSW; above ``shard_limit`` points the IVF
search runs in parallel Ray tasks over an index on disk (:mod:`raypipe.cluster.knn_shards`).
No n x n matrix is ever built.
Rows must be L2-normalised, so inner product = cosine similarity and distance = 1 - similarity.

Within :func:`reusing_neighbours` (the clustering step, with its run's store), an approximate
search of a set among itself is first looked up by its fingerprint (:func:`search_fingerprint`:
the vectors and the search's settings) and, when not found, kept for the next clustering.
"""

from __future__ import annotations

import hashlib
import json
import logging
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from scipy import sparse

from raypipe.cluster import ivf
from raypipe.cluster.ivf import ivf_index

log = logging.getLogger(__name__)

EXACT_LIMIT = 20_000
#: Above this many points, ``auto`` searches in Ray tasks (Ray's start-up pays off).
SHARD_LIMIT = 500_000
BLOCK_ROWS = 2048
METHODS = ("auto", "exact", "ivf", "hnsw", "ivf-shards")
#: Bump when a search gives other neighbours for the same vectors and settings (stored ones expire).
SEARCH_VERSION = 2
#: Rows hashed at a time by :func:`search_fingerprint`.
HASH_BLOCK = 65_536


@dataclass(frozen=True)
class Neighbours:
    """``indices[i, j]``: the j-th nearest point of query i (-1: none), at ``distances[i, j]``."""

    indices: np.ndarray
    distances: np.ndarray


class NeighbourStore(Protocol):
    """Where :func:`reusing_neighbours` keeps searches (:mod:`raypipe.cluster.neighbour_store`)."""

    def load(self, fingerprint: str) -> Neighbours | None: ...

    def save(self, fingerprint: str, neighbours: Neighbours, settings: dict) -> None: ...


_store: ContextVar[NeighbourStore | None] = ContextVar("raypipe_neighbour_store", default=None)


@contextmanager
def reusing_neighbours(store: NeighbourStore):
    """Within: each approximate search of a set among itself (``queries=None``, not ``exact``)
    is read from ``store`` when it holds one of the same fingerprint, else searched and saved."""
    token = _store.set(store)
    try:
        yield
    finally:
        _store.reset(token)


def search_settings(X: np.ndarray, k: int, method: str, seed: int) -> dict:
    """What a search's neighbours depend on besides the vectors' values (refinement rounds
    only when there are some: the tables of searches before refinement existed stay valid)."""
    return {
        "version": SEARCH_VERSION, "rows": len(X), "dim": X.shape[1], "k": k, "method": method, "seed": seed,
        "ivf_probes": ivf.IVF_PROBES, "ivf_train_per_list": ivf.IVF_TRAIN_PER_LIST,
        "ivf_codes": ivf.IVF_CODES, "ivf_rescore_extra": ivf.RESCORE_EXTRA,
    } | ({"ivf_refine_rounds": ivf.REFINE_ROUNDS} if ivf.REFINE_ROUNDS else {})  # fmt: skip


def search_fingerprint(X: np.ndarray, settings: dict) -> str:
    """SHA-256 of the float32 rows of ``X`` in order and of ``settings``: a face added, removed,
    moved or embedded again, or another k, method or IVF setting, gives another fingerprint."""
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
    for start in range(0, len(X), HASH_BLOCK):
        digest.update(np.ascontiguousarray(X[start : start + HASH_BLOCK], dtype=np.float32).data)
    return digest.hexdigest()


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


def _hnsw_index(dim: int):
    import faiss

    index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = 64
    index.hnsw.efSearch = 64
    return index


def _faiss_search(index_X: np.ndarray, queries: np.ndarray | None, k: int, method: str, seed: int):
    """HNSW or IVF (its float16 candidates re-scored; searching ``index_X`` among itself,
    ``queries=None``, refined by neighbours of neighbours)."""
    index = _hnsw_index(index_X.shape[1]) if method == "hnsw" else ivf_index(index_X, seed)
    index.add(index_X)
    Q = index_X if queries is None else queries
    if method == "hnsw":
        return index.search(Q, k)
    if ivf.approximate(index):
        sims, idx = ivf.rescore(index_X, Q, index.search(Q, ivf.candidates(index, k))[1], k)
    else:
        sims, idx = index.search(Q, k)
    del index
    for _ in range(ivf.REFINE_ROUNDS if queries is None else 0):
        sims, idx = ivf.refine(index_X, idx, 0, len(idx))
    return sims, idx


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
    store = _store.get()
    if store is None or not self_search or method == "exact":
        return _search(X, queries, wanted, method, seed)
    settings = search_settings(X, k, method, seed)
    fingerprint = search_fingerprint(X, settings)
    found = store.load(fingerprint)
    if found is None:
        found = _search(X, None, wanted, method, seed)
        store.save(fingerprint, found, settings)
    return found


def _search(
    X: np.ndarray, queries: np.ndarray | None, wanted: int, method: str, seed: int
) -> Neighbours:
    """The search of :func:`nearest_neighbours` by a resolved ``method``."""
    self_search = queries is None
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
        sims, idx = _faiss_search(X, None if self_search else Q, min(wanted, len(X)), method, seed)
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
