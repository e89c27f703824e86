"""Faces the IVF search left short of edges, searched again in more cells: a cheaper 64 cells?

    OMP_NUM_THREADS=1 nice -n 10 python bench/knn_widen.py --sizes 300k

An experiment, not the library's search. On the realistic synthetic faces of
``bench/scale_quality.py`` (128-d, seed n + 128), in process, k = 10, float16 lists re-scored:
the default search (32 cells visited); the same and then, for the faces with fewer than k
neighbours found within the graph's distance (ArcFace's calibrated 0.62: where the missed
edges are, ``--widen-probes`` cells searched again, the union of both searches re-scored); and
64 cells for every face. For the default search, the share of the sampled faces left short of
edges and their share of its missed edges. Per search: edge recall on 2,000 sampled faces (own row, either end),
the search's CPU seconds, the share of faces searched again, and the default clustering of its
neighbours (BCubed F, people F, strangers merged, clusters).
"""

from __future__ import annotations

import argparse
import logging
import time

import numpy as np
from knn_codes import GivenNeighbours
from scale_quality import MODEL, parse_size, true_edges

from raypipe.cluster import ivf, knn
from raypipe.cluster.auto import AutoClusterer
from raypipe.cluster.calibration import CALIBRATION
from raypipe.evaluation.compare import LabelledFaces
from raypipe.evaluation.metrics import score_clustering
from raypipe.evaluation.strangers import seen_once, stranger_scores
from raypipe.testing.realistic_faces import make_realistic_faces

K = 10


def search(index, X: np.ndarray, rows: np.ndarray, probes: int):
    """Rows' k + 1 nearest (itself included) visiting ``probes`` cells, re-scored exactly."""
    index.nprobe = probes
    found = index.search(X[rows], ivf.candidates(index, K + 1))[1]
    return ivf.rescore(X, X[rows], found, K + 1)


def widened(X: np.ndarray, probes: int, widen: int | None) -> tuple[knn.Neighbours, float, float]:
    """The search (and, with ``widen``, the short rows searched again): neighbours, CPU s, share
    of rows searched again."""
    cpu = time.process_time()
    index = ivf.ivf_index(X, seed=0)
    index.add(X)
    everyone = np.arange(len(X))
    sims, idx = search(index, X, everyone, probes)
    short = np.zeros(len(X), bool)
    if widen:
        short = ((1.0 - sims[:, 1:]) <= CALIBRATION[MODEL].average).sum(axis=1) < K
        rows = np.flatnonzero(short)
        more = search(index, X, rows, widen)[1]
        both = np.sort(np.concatenate([idx[rows], more], axis=1), axis=1)
        both[:, 1:][both[:, 1:] == both[:, :-1]] = -1  # each candidate once
        sims[rows], idx[rows] = ivf.rescore(X, X[rows], both, K + 1)
    neighbours = knn._neighbours(*knn._drop_self(sims, idx))
    return neighbours, time.process_time() - cpu, float(short.mean())


def misses_of_short_faces(found: knn.Neighbours, queries: np.ndarray, true: list[set]) -> str:
    """Of the sampled faces: the share left short of edges and their share of the missed edges."""
    short = ((found.distances[queries] <= CALIBRATION[MODEL].average).sum(axis=1) < K)
    missed = np.array([len(t - set(found.indices[q])) for q, t in zip(queries, true)])
    return f"{short.mean():.1%} of the faces short of edges hold {missed[short].sum() / missed.sum():.1%} of the misses"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="300k")
    parser.add_argument("--widen-probes", type=int, default=128)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    print("| n | search | edges found | either end | search CPU s | searched again | BCubed F | "
          "people F | strangers merged | clusters |")  # fmt: skip
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in map(parse_size, args.sizes.split(",")):
        data = make_realistic_faces(n, 128, seed=n + 128)
        queries, true = true_edges(data.X, K)
        case = seen_once(LabelledFaces(data.X, data.labels, np.arange(n), MODEL, np.ones(n, bool)))
        edges = sum(map(len, true))
        for name, probes, widen in [
            ("32 cells", 32, None),
            (f"32 cells, short faces {args.widen_probes}", 32, args.widen_probes),
            ("64 cells", 64, None),
        ]:
            found, cpu, again = widened(data.X, probes, widen)
            rows = found.indices
            own = sum(len(t & set(rows[q])) for q, t in zip(queries, true)) / edges
            either = sum(j in rows[q] or q in rows[j] for q, t in zip(queries, true) for j in t) / edges
            with knn.reusing_neighbours(GivenNeighbours(found)):
                predicted = AutoClusterer(model=MODEL, cannot_link=False, exact_limit=0).fit(data.X).labels_
            every, scores = score_clustering(data.labels, predicted), stranger_scores(case, predicted)
            if widen is None and probes == 32:
                print(f"{n:,} faces, 32 cells: {misses_of_short_faces(found, queries, true)}")
            print(f"| {n:,} | {name} | {own:.4f} | {either:.4f} | {cpu:.1f} | {again:.1%} | "
                  f"{every['bcubed_f']:.4f} | {scores['people_f']:.4f} | {scores['merged']:.2%} | "
                  f"{len(np.unique(predicted)):,} |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
