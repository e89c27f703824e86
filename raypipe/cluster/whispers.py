"""Chinese Whispers label propagation (Biemann 2006) on a weighted sparse graph, via numba."""

from __future__ import annotations

import numba
import numpy as np
from scipy import sparse


@numba.njit(cache=True)
def _propagate(indptr, indices, weights, labels, order_seed, iterations):
    np.random.seed(order_seed)  # numba keeps its own generator, seeded here
    n = len(labels)
    score = np.zeros(n, dtype=np.float64)
    for _ in range(iterations):
        changed = 0
        for node in np.random.permutation(n):
            start, stop = indptr[node], indptr[node + 1]
            if start == stop:
                continue
            best_label, best_score = labels[node], 0.0
            for e in range(start, stop):
                score[labels[indices[e]]] += weights[e]
            for e in range(start, stop):
                label = labels[indices[e]]
                if score[label] > best_score or (score[label] == best_score and label < best_label):
                    best_label, best_score = label, score[label]
            for e in range(start, stop):
                score[labels[indices[e]]] = 0.0
            if best_label != labels[node]:
                labels[node] = best_label
                changed += 1
        if changed == 0:
            break
    return labels


def chinese_whispers(graph: sparse.csr_matrix, iterations: int = 20, seed: int = 0) -> np.ndarray:
    """Cluster ids (0..c-1) of the nodes of a symmetric weighted graph.

    Every node starts in its own class; in a random (seeded) order each node takes the class
    with the largest total edge weight among its neighbours, until nothing changes or
    ``iterations`` passes are done.
    """
    graph = sparse.csr_matrix(graph)
    labels = _propagate(
        graph.indptr.astype(np.int64),
        graph.indices.astype(np.int64),
        graph.data.astype(np.float64),
        np.arange(graph.shape[0], dtype=np.int64),
        seed,
        iterations,
    )
    return np.unique(labels, return_inverse=True)[1]
