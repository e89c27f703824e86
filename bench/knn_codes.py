"""The IVF's lists in float16, re-scored exactly, against float32 lists: same neighbours, less CPU?

    OMP_NUM_THREADS=1 nice -n 10 python bench/knn_codes.py --sizes 100k,300k
    OMP_NUM_THREADS=1 nice -n 10 python bench/knn_codes.py --sizes 1M --search-only

On realistic synthetic faces (as ``bench/scale_quality.py``: 128-d, seed n + 128), per size and
per storage of the IVF's vectors (:data:`raypipe.cluster.ivf.IVF_CODES`: ``flat``, the float32
baseline, then ``fp16``, the default, in the same process): the k-NN search of the default
clustering (k = 10, 32 cells visited; in process up to 500k faces, in Ray tasks above, where
``CPU s`` counts this process only), its wall and CPU seconds, the share of the exact graph edges
it finds on 2,000 sampled faces (wall and CPU: medians of ``--repeats`` searches, the two
storages taking turns), and the default clustering of those neighbours (BCubed F,
clusters). Then how far the two searches' results differ: faces whose neighbour sets (and
order) are identical, the largest distance difference of a neighbour both found, and the
agreement of the two clusterings (adjusted Rand index, faces whose cluster holds the same faces;
not with ``--search-only``). Ray is started before the first timed search.
"""

from __future__ import annotations

import argparse
import logging
import os
import time

import numpy as np
from scale_quality import MODEL, parse_size, true_edges

from raypipe.cluster import ivf, knn
from raypipe.cluster.auto import AutoClusterer
from raypipe.evaluation.metrics import contingency, pairwise_scores, score_clustering
from raypipe.ray_session import ensure_ray
from raypipe.testing.realistic_faces import make_realistic_faces

K = 10


class GivenNeighbours:
    """A neighbour store that hands the clusterer one search, whatever its fingerprint."""

    def __init__(self, neighbours: knn.Neighbours):
        self.neighbours = neighbours

    def load(self, fingerprint: str) -> knn.Neighbours:
        return self.neighbours

    def save(self, fingerprint: str, neighbours: knn.Neighbours, settings: dict) -> None:
        raise AssertionError("the clusterer searched again")


def same_clusters(a: np.ndarray, b: np.ndarray) -> float:
    """Share of faces whose cluster holds the same faces in both labellings."""
    ia, ib = np.unique(a, return_inverse=True)[1], np.unique(b, return_inverse=True)[1]
    pair = np.unique(ia.astype(np.int64) * (ib.max() + 1) + ib, return_inverse=True, return_counts=True)
    together = pair[2][pair[1]]
    return float(np.mean((together == np.bincount(ia)[ia]) & (together == np.bincount(ib)[ib])))


def timed_searches(X: np.ndarray, codes: tuple, repeats: int) -> dict:
    """Each storage's search ``repeats`` times, the storages taking turns (the same load):
    {codes: (neighbours, median wall s, median CPU s)}."""
    times = {c: [] for c in codes}
    found = {}
    for _ in range(repeats):
        for c in codes:
            ivf.IVF_CODES = c
            started, cpu = time.perf_counter(), time.process_time()
            found[c] = knn.nearest_neighbours(X, K, exact_limit=0)
            times[c].append((time.perf_counter() - started, time.process_time() - cpu))
    return {c: (found[c], *np.median(times[c], axis=0)) for c in codes}


def default_clusters(X: np.ndarray, found: knn.Neighbours) -> np.ndarray:
    """The default clustering of ``X`` over the neighbours ``found``."""
    with knn.reusing_neighbours(GivenNeighbours(found)):
        return AutoClusterer(model=MODEL, cannot_link=False, exact_limit=0).fit(X).labels_


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100k,300k")
    parser.add_argument("--search-only", action="store_true", help="no clustering (1M: memory, time)")
    parser.add_argument("--repeats", type=int, default=1, help="searches per storage (medians)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    default = ivf.IVF_CODES
    print(f"load average at start: {os.getloadavg()}")
    print("| n | IVF lists | search wall s | search CPU s | edge recall | BCubed F | clusters |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for n in map(parse_size, args.sizes.split(",")):
        data = make_realistic_faces(n, 128, seed=n + 128)
        queries, true = true_edges(data.X, K)
        if n > knn.SHARD_LIMIT:
            ensure_ray()  # its start-up not in the first search's wall time
        searches = timed_searches(data.X, ("flat", default), args.repeats)
        labels = {}
        for codes, (found, seconds, cpu) in searches.items():
            recall = sum(len(t & set(found.indices[q])) for q, t in zip(queries, true)) / sum(map(len, true))
            f, clusters = "-", "-"
            if not args.search_only:
                labels[codes] = default_clusters(data.X, found)
                f = f"{score_clustering(data.labels, labels[codes])['bcubed_f']:.4f}"
                clusters = f"{len(np.unique(labels[codes])):,}"
            print(f"| {n:,} | {codes} | {seconds:.1f} | {cpu:.1f} | {recall:.4f} | {f} | {clusters} |", flush=True)
        ivf.IVF_CODES = default
        a, b = searches["flat"][0], searches[default][0]
        same_set = np.mean([set(x) == set(y) for x, y in zip(a.indices, b.indices)])
        shared = a.indices == b.indices
        agreement = ""
        if not args.search_only:
            la, lb = labels["flat"], labels[default]
            agreement = (f", labels ARI {pairwise_scores(contingency(la, lb))['ari']:.5f}, "
                         f"faces in an identical cluster {same_clusters(la, lb):.5f}")  # fmt: skip
        print(f"{n:,} faces, flat vs {default}: identical neighbour sets {same_set:.5f}, "
              f"identical lists {shared.all(axis=1).mean():.5f}, largest distance difference "
              f"{np.abs(a.distances - b.distances)[shared].max():.2e}{agreement}; "
              f"load average {os.getloadavg()}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
