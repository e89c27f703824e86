"""The IVF index of the approximate k-NN search: inverted lists over spherical k-means cells.

One builder for both searches of :mod:`raypipe.cluster.knn`: in process, and in Ray tasks over
an index on disk (:mod:`raypipe.cluster.knn_shards`).
"""

from __future__ import annotations

import numpy as np

#: Training points per cell, and cells visited per query. 32 cells, not 8: on 100k
#: realistic synthetic faces (1,264 cells) 8 found 0.90 of the same-person edges and split people
#: (BCubed F 0.964, 16,416 clusters for 12,277 people), 32 found 0.93 (F 0.976, 14,539 clusters)
#: for 1.6x the clustering's CPU time (``bench/scale_quality.py``).
IVF_TRAIN_PER_LIST = 20
IVF_PROBES = 32


def ivf_index(index_X: np.ndarray, seed: int, n_lists: int | None = None):
    """An empty IVF over ``n_lists`` (None: ``4 sqrt(n)``) spherical k-means cells, trained
    briefly on a sample."""
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
    kmeans.train(index_X[np.sort(sample)])
    quantizer = faiss.IndexFlatIP(dim)
    quantizer.add(kmeans.centroids)
    index = faiss.IndexIVFFlat(quantizer, dim, n_lists, faiss.METRIC_INNER_PRODUCT)
    index.nprobe = IVF_PROBES
    return index
