"""The IVF index of the approximate k-NN search: inverted lists over spherical k-means cells.

One builder for both searches of :mod:`raypipe.cluster.knn`: in process, and in Ray tasks over
an index on disk (:mod:`raypipe.cluster.knn_shards`). The lists hold the vectors in float16
(:data:`IVF_CODES`): scanning them costs about half the float32 lists' CPU, and the search asks
for :func:`candidates` and re-scores them exactly against the float32 vectors
(:func:`rescore`), so the distances it returns are exact and its neighbours those of the
float32 lists. :func:`refine` can then look for each face's missed neighbours among its
neighbours' neighbours (:data:`REFINE_ROUNDS` rounds; none by default).
"""

from __future__ import annotations

import numpy as np

#: Training points per cell, and cells visited per query. 32 cells, not 8: on 100k
#: realistic synthetic faces (1,264 cells) 8 found 0.90 of the same-person edges and split people
#: (BCubed F 0.964, 16,416 clusters for 12,277 people), 32 found 0.93 (F 0.976, 14,539 clusters)
#: for 1.6x the clustering's CPU time (``bench/scale_quality.py``).
IVF_TRAIN_PER_LIST = 20
IVF_PROBES = 32
#: How the lists store the vectors: ``fp16`` (re-scored exactly) or ``flat`` (float32).
IVF_CODES = "fp16"
#: Candidates the float16 lists return beyond the k wanted, re-scored exactly (on 100k faces
#: 2 extra gave the float32 lists' neighbours for all faces but one, at a tie; 0 for 99.46%).
RESCORE_EXTRA = 4
#: Queries re-scored at a time (their candidates' float32 vectors in memory).
RESCORE_BLOCK = 8192
#: Rounds of neighbour-of-neighbour refinement after the IVF search of a set among itself.
#: Off by default: at 300k realistic synthetic faces one round found 0.906 of the graph's
#: edges instead of 0.868 for 1.2x the search's CPU and BCubed F 0.9686 instead of 0.9666, but
#: merged 2.21% of the faces seen once into others' clusters instead of 2.09%, more than the
#: 0.1 point the rule fixed in advance allowed; at 1M F 0.9551 instead of 0.9508, strangers
#: merged 3.89% instead of 3.57% (docs/scale.md).
REFINE_ROUNDS = 0
#: Queries refined at a time (k^2 candidates' float32 vectors each in memory).
REFINE_BLOCK = 1024


def ivf_index(index_X: np.ndarray, seed: int, n_lists: int | None = None):
    """An empty IVF over ``n_lists`` (None: ``4 sqrt(n)``) spherical k-means cells, trained
    briefly on a sample, its lists stored as :data:`IVF_CODES`."""
    import faiss

    n, dim = index_X.shape
    n_lists = n_lists or int(np.clip(4 * np.sqrt(n), 16, max(16, n // 40)))
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
    training = index_X[np.sort(sample)]
    kmeans.train(training)
    quantizer = faiss.IndexFlatIP(dim)
    quantizer.add(kmeans.centroids)
    if IVF_CODES == "fp16":
        index = faiss.IndexIVFScalarQuantizer(
            quantizer, dim, n_lists, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT
        )
        index.by_residual = False  # the vectors themselves: the Ray tasks pass no coarse terms
        index.train(training[:1])  # the cells are trained: float16 codes need no training
    else:
        index = faiss.IndexIVFFlat(quantizer, dim, n_lists, faiss.METRIC_INNER_PRODUCT)
    index.nprobe = IVF_PROBES
    return index


def approximate(index) -> bool:
    """Whether ``index`` stores its vectors inexactly (its results are then re-scored)."""
    import faiss

    return not isinstance(index, faiss.IndexIVFFlat)


def candidates(index, k: int) -> int:
    """How many neighbours to ask ``index`` for so that the ``k`` best survive re-scoring."""
    return min(index.ntotal, k + RESCORE_EXTRA) if approximate(index) else k


def rescore(X: np.ndarray, queries: np.ndarray, idx: np.ndarray, k: int):
    """The ``k`` best of each query's candidates ``idx`` (-1: none) by their exact float32 inner
    products with rows of ``X`` (a memmap is read row by row), best first: (sims, idx)."""
    out_sims = np.empty((len(idx), k), np.float32)
    out_idx = np.empty((len(idx), k), idx.dtype)
    for start in range(0, len(idx), RESCORE_BLOCK):
        block = idx[start : start + RESCORE_BLOCK]
        rows = np.asarray(X[np.maximum(block, 0).ravel()], np.float32).reshape(*block.shape, -1)
        Q = np.asarray(queries[start : start + len(block)], np.float32)
        exact = np.einsum("qcd,qd->qc", rows, Q)
        exact[block < 0] = -np.inf
        order = np.argsort(-exact, axis=1, kind="stable")[:, :k]
        out_idx[start : start + len(block)] = np.take_along_axis(block, order, axis=1)
        out_sims[start : start + len(block)] = np.take_along_axis(exact, order, axis=1)
    return out_sims, out_idx


def refine(X: np.ndarray, table: np.ndarray, start: int, stop: int):
    """One round of neighbour-of-neighbour search for rows ``start:stop`` of ``X`` searched
    among itself: each row's candidates are its neighbours in ``table`` (n x k, -1: none) and
    their neighbours, re-scored exactly against ``X`` (a memmap is read row by row); the ``k``
    best, best first: (sims, idx). A row's neighbours are among its candidates, so none gets
    worse. Faces of one person lie close together: a neighbour the IVF missed (in a cell not
    visited) is mostly a neighbour of a neighbour it found."""
    k = table.shape[1]
    out_sims = np.empty((stop - start, k), np.float32)
    out_idx = np.empty((stop - start, k), table.dtype)
    for first in range(start, stop, REFINE_BLOCK):
        last = min(first + REFINE_BLOCK, stop)
        own = np.asarray(table[first:last])
        hops = np.asarray(table[np.maximum(own, 0).ravel()]).reshape(len(own), k * k)
        hops[np.repeat(own < 0, k, axis=1)] = -1
        found = np.sort(np.concatenate([own, hops], axis=1), axis=1)
        found[:, 1:][found[:, 1:] == found[:, :-1]] = -1  # each candidate once
        queries = np.asarray(X[first:last], np.float32)
        sims, idx = rescore(X, queries, found, k)
        out_sims[first - start : last - start], out_idx[first - start : last - start] = sims, idx
    return out_sims, out_idx
