"""Why quality falls as n grows: the data's ceiling, or ``auto``'s approximations?

    nice -n 10 python bench/scale_quality.py --sizes 10k,30k,100k
    nice -n 10 python bench/scale_quality.py --sizes 100k,300k --recall
    nice -n 10 python bench/scale_quality.py --sizes 1M --variants previous,ivf
    nice -n 10 python bench/scale_quality.py --sizes 1M --recall --skip-components
    nice -n 10 python bench/scale_quality.py --sizes 1M --recall --skip-components --codes flat,fp16,sq8
    nice -n 10 python bench/scale_quality.py --sizes 300k --searches 32:0,32:1,32:2,64:0
    nice -n 10 python bench/scale_quality.py --sizes 300k --variants ivf-refine0,ivf-refine1,ivf-probes64-refine0,ivf-refine2

On realistic synthetic faces (:func:`raypipe.testing.realistic_faces.make_realistic_faces`, 128-d,
5.2% of faces seen once), each size is clustered by ``auto`` (ArcFace's calibrated distances):

- ``ivf``: the default large-set path (faiss IVF k-NN graph, Chinese Whispers above 5,000 faces,
  leftovers attached), what a library run does;
- ``ivf-probes8``, ``ivf-probes16``: the same visiting 8 or 16 IVF cells per query (the default
  :data:`raypipe.cluster.ivf.IVF_PROBES` is 32; it was 8);
- ``ivf-refine0``, ``ivf-refine1``, ``ivf-refine2``: the default IVF search refined by its
  neighbours' neighbours in no round, one or two (:data:`raypipe.cluster.ivf.REFINE_ROUNDS`:
  0 by default);
  ``ivf-probes64-refine0``: 64 cells visited instead, not refined;
- ``ivf-probes128``: 128 cells, in process (the IVF's missed neighbours at sizes where exact
  k-NN cannot run cost about ``ivf-probes128 - ivf`` and more);
- ``ivf-no-leftovers``: the default IVF path, in process, without the leftover cut (its share at
  any size);
- ``hnsw``: the same with faiss HNSW k-NN (``knn_method="hnsw"``, efSearch 64);
- ``exact``: the same with exact k-NN (the IVF's missed neighbours cost ``exact - ivf``);
- ``exact-whole``: exact k-NN and components of any size kept for the linkage when they fit in
  ``--linkage-limit`` faces (Chinese Whispers' split costs ``exact-whole - exact``);
- ``exact-no-leftovers``: the leftover cut's share;
- ``sub-populations``: the identities dealt into groups of ~10k faces, each group clustered alone
  exactly: the quality without the look-alikes that more people bring (the data's ceiling for a
  fixed distance is ``sub-populations - exact``);
- ``previous``: the defaults before people seen once entered the fit (0.66, no lone-pair or
  member limit, leftover 0.60; 8 cells).

``CPU s``: CPU seconds of this process (run with ``OMP_NUM_THREADS=1``: faiss on one thread),
the fair measure on a shared machine. Scores: BCubed F over every face, the F of the people with
2+ faces, the share of the faces seen once whose cluster holds another face
(:mod:`raypipe.evaluation.strangers`), clusters found vs people. ``--recall``: instead, the share
of the true 10 nearest neighbours closer than the same-person distance (the graph's edges) that
the IVF finds, on 2,000 sampled faces, per number of cells visited (``--cells``: for these
numbers of IVF cells instead of the default; ``--codes flat,fp16,sq8``: with the IVF's vectors
stored as they are, in float16 or in 8 bits per dimension, and the search's CPU per query);
and, unless ``--skip-components``, the largest
component of the k-NN graph cut at that distance (above 5,000 faces Chinese Whispers splits it).
``--searches 32:0,32:1``: instead, the same edge recall of the whole default search
(float16 lists re-scored, in Ray tasks above 500k faces) per ``cells visited:refinement rounds``,
with its wall and CPU seconds (this process's: not the Ray tasks').
"""

from __future__ import annotations

import argparse
import logging
import os
import time
from contextlib import contextmanager

import numpy as np
from scipy.sparse.csgraph import connected_components

from raypipe.cluster import ivf, knn
from raypipe.cluster.auto import AutoClusterer
from raypipe.cluster.calibration import CALIBRATION
from raypipe.evaluation.compare import LabelledFaces
from raypipe.evaluation.metrics import score_clustering
from raypipe.evaluation.strangers import seen_once, stranger_scores
from raypipe.ray_session import ensure_ray
from raypipe.testing.realistic_faces import make_realistic_faces

MODEL = "arcface-512"
#: Faces per sub-population (the size where exact ``auto`` holds its quality).
SUB_POPULATION = 10_000
VARIANTS = {
    "ivf": {"exact_limit": 0},
    "ivf-refine0": {"exact_limit": 0, "refine": 0},
    "ivf-refine1": {"exact_limit": 0, "refine": 1},
    "ivf-refine2": {"exact_limit": 0, "refine": 2},
    "ivf-probes64-refine0": {"exact_limit": 0, "probes": 64, "refine": 0},
    "ivf-probes8": {"exact_limit": 0, "probes": 8},
    "ivf-probes16": {"exact_limit": 0, "probes": 16},
    "ivf-probes128": {"knn_method": "ivf", "probes": 128},
    "ivf-no-leftovers": {"knn_method": "ivf", "attach_leftovers": False},
    "hnsw": {"knn_method": "hnsw"},
    "exact": {"knn_method": "exact"},
    "exact-whole": {"knn_method": "exact", "component_limit": None},
    "exact-no-leftovers": {"knn_method": "exact", "attach_leftovers": False},
    "sub-populations": {"knn_method": "exact"},
    "previous": {
        "exact_limit": 0,
        "probes": 8,
        "threshold": 0.66,
        "lone_pair_distance": 2.0,
        "member_distance": 2.0,
        "leftover_distance": 0.60,
        "refine": 0,
    },
}


def parse_size(text: str) -> int:
    multiplier = {"k": 1_000, "m": 1_000_000}.get(text[-1].lower(), 1)
    return int(float(text.rstrip("kKmM")) * multiplier)


def sub_population_labels(
    X: np.ndarray, labels: np.ndarray, settings: dict, seed: int
) -> np.ndarray:
    """Identities dealt at random into groups of ~``SUB_POPULATION`` faces, each clustered alone."""
    people, codes = np.unique(labels, return_inverse=True)
    groups = max(1, round(len(X) / SUB_POPULATION))
    group_of = np.random.default_rng(seed).integers(groups, size=len(people))[codes]
    predicted = np.empty(len(X), np.int64)
    offset = 0
    for group in range(groups):
        rows = np.flatnonzero(group_of == group)
        found = AutoClusterer(model=MODEL, cannot_link=False, **settings).fit(X[rows]).labels_
        predicted[rows] = found + offset
        offset += int(found.max()) + 1
    return predicted


def run_variant(X: np.ndarray, labels: np.ndarray, name: str, limit: int) -> np.ndarray:
    settings = dict(VARIANTS[name])
    if name == "sub-populations":
        return sub_population_labels(X, labels, settings, seed=len(X))
    if settings.get("component_limit", 0) is None:
        settings["component_limit"] = limit
    probes, rounds = settings.pop("probes", ivf.IVF_PROBES), settings.pop("refine", ivf.REFINE_ROUNDS)
    with ivf_search(probes, rounds):
        return AutoClusterer(model=MODEL, cannot_link=False, **settings).fit(X).labels_


@contextmanager
def ivf_search(probes: int, rounds: int):
    """Within: the IVF search visits ``probes`` cells and refines in ``rounds`` rounds."""
    default = ivf.IVF_PROBES, ivf.REFINE_ROUNDS
    ivf.IVF_PROBES, ivf.REFINE_ROUNDS = probes, rounds  # read when the search runs
    try:
        yield
    finally:
        ivf.IVF_PROBES, ivf.REFINE_ROUNDS = default


def search_recall(X: np.ndarray, searches: list[tuple[int, int]], k: int = 10):
    """Per (cells visited, refinement rounds): the default search's share of the graph's edges
    over 2,000 sampled rows, in their own rows and in the symmetric graph (an edge found from
    either end), its wall and CPU seconds."""
    queries, true = true_edges(X, k)
    for probes, rounds in searches:
        with ivf_search(probes, rounds):
            started, cpu = time.perf_counter(), time.process_time()
            found = knn.nearest_neighbours(X, k, exact_limit=0).indices
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        edges = sum(map(len, true))
        own = sum(len(t & set(found[q])) for q, t in zip(queries, true)) / edges
        graph = sum(j in found[q] or q in found[j] for q, t in zip(queries, true) for j in t) / edges
        yield probes, rounds, own, graph, seconds, cpu


#: How the IVF stores its vectors (``--codes``): as they are, in float16, or in 8 bits per dim.
CODES = {"flat": None, "fp16": "QT_fp16", "sq8": "QT_8bit"}


def ivf_with_codes(base, code: str, X: np.ndarray):
    """An IVF over the cells of ``base`` (an empty IVF) filled with ``X``, its vectors stored as
    ``code`` (not re-scored: the codes' own recall)."""
    import faiss

    index = faiss.IndexIVFFlat(base.quantizer, X.shape[1], base.nlist, faiss.METRIC_INNER_PRODUCT)
    index.referenced_objects = [base]  # holds the cells' quantizer (``base`` stores float16)
    if CODES[code]:
        quantizer = getattr(faiss.ScalarQuantizer, CODES[code])
        index = faiss.IndexIVFScalarQuantizer(base.quantizer, X.shape[1], base.nlist, quantizer, faiss.METRIC_INNER_PRODUCT)
        index.referenced_objects = [base]  # holds the cells' quantizer
        index.train(X[np.random.default_rng(0).choice(len(X), min(len(X), 100_000), replace=False)])
    index.add(X)
    return index


def true_edges(X: np.ndarray, k: int = 10, samples: int = 2000) -> tuple[np.ndarray, list[set]]:
    """``samples`` rows drawn at random (seed 0) and, for each, its exact ``k`` nearest
    neighbours closer than the same-person distance (the graph's edges)."""
    queries = np.random.default_rng(0).choice(len(X), samples, replace=False)
    true = []
    for start in range(0, len(queries), 100):  # 100 x n similarities at a time (1M: 0.4 GB)
        exact = knn.nearest_neighbours(X, k + 1, queries=X[queries[start : start + 100]], method="exact")
        close = exact.distances[:, 1:] < CALIBRATION[MODEL].average  # column 0: the row itself
        true += [set(row[1:][keep]) for row, keep in zip(exact.indices, close)]
    return queries, true


def edge_recall(X: np.ndarray, probes: tuple = (8, 16, 32, 64, 128), k: int = 10, cells: tuple = (None,),
                codes: tuple = ("flat",)) -> dict:  # fmt: skip
    """Per number of IVF cells (None: the default), storage code and cells visited: the share of
    the exact neighbours within the graph's distance that it finds, over 2,000 sampled rows, and
    the search's CPU seconds per 1,000 queries."""
    queries, true = true_edges(X, k)
    found = {}
    for n_lists in cells:
        for code in codes:
            index = ivf_with_codes(ivf.ivf_index(X, seed=0, n_lists=n_lists), code, X)
            for nprobe in probes:
                index.nprobe = nprobe
                cpu = time.process_time()
                rows = index.search(X[queries], k + 1)[1]
                cpu = (time.process_time() - cpu) / len(queries) * 1000
                share = sum(len(t & set(r)) for t, r in zip(true, rows)) / sum(map(len, true))
                found[index.nlist, code, nprobe] = share, cpu
            del index
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10k,30k,100k")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument(
        "--linkage-limit", type=int, default=15_000, help="largest component linked whole"
    )
    parser.add_argument("--recall", action="store_true", help="only the IVF's edge recall")
    parser.add_argument("--cells", help="--recall with these IVF cell counts, e.g. 1000,2000")
    parser.add_argument(
        "--skip-components", action="store_true", help="--recall without the largest component"
    )
    parser.add_argument("--codes", default="flat", help=f"--recall with the IVF's vectors stored as: {','.join(CODES)}")
    parser.add_argument("--searches", help="recall of the whole search per cells:rounds, e.g. 32:0,32:1")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if args.searches:
        searches = [tuple(map(int, s.split(":"))) for s in args.searches.split(",")]
        print(f"load average at start: {os.getloadavg()}")
        for n in map(parse_size, args.sizes.split(",")):
            X = make_realistic_faces(n, 128, seed=n + 128).X
            if n > knn.SHARD_LIMIT:
                ensure_ray()  # its start-up not in the first search's wall time
            for probes, rounds, own, graph, seconds, cpu in search_recall(X, searches):
                print(f"{n:,} faces, {probes} cells visited, {rounds} refinement rounds: {own:.4f} of the "
                      f"edges found ({graph:.4f} from either end), {seconds:.1f} s, {cpu:.1f} CPU s; "
                      f"load {os.getloadavg()}", flush=True)  # fmt: skip
        return
    if args.recall:
        for n in map(parse_size, args.sizes.split(",")):
            X = make_realistic_faces(n, 128, seed=n + 128).X
            cells = tuple(map(int, args.cells.split(","))) if args.cells else (None,)
            codes = tuple(args.codes.split(","))
            for (n_lists, code, nprobe), (share, cpu) in edge_recall(X, cells=cells, codes=codes).items():
                print(f"{n:,} faces, {n_lists} IVF cells ({code}), {nprobe} visited: {share:.3f} of the edges found, "
                      f"{cpu:.3f} CPU s per 1,000 queries", flush=True)  # fmt: skip
            if args.skip_components:
                continue
            graph = knn.neighbour_graph(
                knn.nearest_neighbours(X, 10, exact_limit=0), CALIBRATION[MODEL].average
            )
            largest = np.bincount(connected_components(graph, directed=False)[1]).max()
            print(f"{n:,} faces: largest component {largest:,}")
        return
    print(
        "| n | variant | seconds | CPU s | BCubed F | people F | strangers merged | clusters | people |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for n in map(parse_size, args.sizes.split(",")):
        data = make_realistic_faces(n, 128, seed=n + 128)
        faces = LabelledFaces(data.X, data.labels, np.arange(n), MODEL, np.ones(n, bool))
        case = seen_once(faces)
        for name in args.variants.split(","):
            started, cpu = time.perf_counter(), time.process_time()
            predicted = run_variant(data.X, data.labels, name, args.linkage_limit)
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
            scores = stranger_scores(case, predicted)
            every = score_clustering(data.labels, predicted)
            print(
                f"| {n:,} | {name} | {seconds:.1f} | {cpu:.1f} | {every['bcubed_f']:.4f} | "
                f"{scores['people_f']:.4f} | {scores['merged']:.4f} | "
                f"{len(np.unique(predicted)):,} | {len(np.unique(data.labels)):,} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
