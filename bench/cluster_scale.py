"""Scale benchmark of the scalable clusterers on realistic synthetic face embeddings.

    nice -n 10 python bench/cluster_scale.py --sizes 10k,100k --dims 128,512
    nice -n 10 python bench/cluster_scale.py --sizes 1M --dims 128 --clusterers auto-large

The faces come from :func:`raypipe.testing.realistic_faces.make_realistic_faces`, whose
same-person and different-person similarities, look-alikes, identity sizes and noise faces are
fitted to ArcFace on LFW (``bench/fit_synthetic.py``); the clusterers get the ArcFace calibrated
thresholds, as a run does. Each (size, dim, clusterer) runs in a fresh process, so the peak
RSS printed is that run's own (the embeddings included). ``auto-large`` is the default
clusterer forced onto its large-set path (faiss k-NN graph + Chinese Whispers) at every size.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import time

from raypipe.cluster import CLUSTERERS
from raypipe.cluster.step import clusterer_spec
from raypipe.evaluation.metrics import bcubed_scores, contingency, pairwise_scores
from raypipe.testing.realistic_faces import make_realistic_faces

#: The synthetic faces imitate this model: its calibrated thresholds apply.
MODEL = "arcface-512"
SCALABLE = {
    "auto": {"name": "auto"},
    "auto-large": {"name": "auto", "exact_limit": 0},
    "chinese-whispers": {"name": "chinese-whispers"},
    "knn-graph": {"name": "knn-graph"},
    "leiden": {"name": "leiden"},
    "finch": {"name": "finch"},
}


def parse_size(text: str) -> int:
    multiplier = {"k": 1_000, "m": 1_000_000}.get(text[-1].lower(), 1)
    return int(float(text.rstrip("kKmM")) * multiplier)


def run_one(n: int, dim: int, name: str, results) -> None:
    """Generate, cluster and score in this (child) process; report figures through ``results``."""
    data = make_realistic_faces(n, dim, seed=n + dim)
    started = time.perf_counter()
    spec = clusterer_spec(SCALABLE[name], MODEL, cannot_link=False)
    labels = CLUSTERERS.build(spec).fit(data.X).labels_
    seconds = time.perf_counter() - started
    table = contingency(data.labels, labels)
    peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    results.put(
        {
            "seconds": seconds,
            "peak_gib": peak_gib,
            "pairwise_f": pairwise_scores(table)["pairwise_f"],
            "bcubed_f": bcubed_scores(table)["bcubed_f"],
            "clusters": int(labels.max()) + 1,
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10k,100k", help="comma-separated, e.g. 10k,100k,1M")
    parser.add_argument("--dims", default="128,512")
    parser.add_argument("--clusterers", default=",".join(SCALABLE))
    args = parser.parse_args()
    context = multiprocessing.get_context("spawn")
    print(
        f"{'n':>9} {'dim':>4} {'clusterer':17} {'seconds':>8} {'peak GiB':>8} "
        f"{'pair F':>7} {'BCubed F':>8} {'clusters':>8}"
    )
    for size in map(parse_size, args.sizes.split(",")):
        for dim in map(int, args.dims.split(",")):
            for name in args.clusterers.split(","):
                if name == "auto" and size > 20_000:
                    continue  # the same path as auto-large
                results = context.Queue()
                child = context.Process(target=run_one, args=(size, dim, name, results))
                child.start()
                child.join()
                if child.exitcode != 0:
                    print(f"{size:>9} {dim:>4} {name:17} failed (exit code {child.exitcode})")
                    continue
                r = results.get()
                print(
                    f"{size:>9} {dim:>4} {name:17} {r['seconds']:8.1f} {r['peak_gib']:8.2f} "
                    f"{r['pairwise_f']:7.4f} {r['bcubed_f']:8.4f} {r['clusters']:8d}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
