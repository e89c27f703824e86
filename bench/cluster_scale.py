"""Scale benchmark of the scalable clusterers on realistic synthetic face embeddings.

    nice -n 10 python bench/cluster_scale.py --sizes 10k,100k --dims 128,512
    nice -n 10 python bench/cluster_scale.py --sizes 1M --dims 128 --clusterers auto-large
    nice -n 10 python bench/cluster_scale.py --sizes 10M --dims 128 --clusterers auto-large

The faces come from :func:`raypipe.testing.realistic_faces.make_realistic_faces`, whose
same-person and different-person similarities, look-alikes, identity sizes and noise faces are
fitted to ArcFace on LFW (``bench/fit_synthetic.py``); the clusterers get the ArcFace calibrated
thresholds, as a run does. Each (size, dim, clusterer) runs in a fresh process that writes the
faces into a memory-mapped ``.npy`` file (``--scratch``), as a large run's streamed embeddings
are (:mod:`raypipe.cluster.stream`). ``CPU s``: CPU seconds of the clustering, summed over that
process and the Ray processes it started (on a machine shared with other jobs, the fair
measure; the wall ``seconds`` depend on the load). ``peak GiB`` is that process's peak RSS (the memmap's
resident pages included); ``private GiB`` is the peak, sampled each second, of the anonymous
(private) memory of that process and every process it started (the Ray workers of the k-NN
search: :mod:`raypipe.cluster.knn_shards`). ``auto-large`` is the default clusterer forced onto
its large-set path (faiss k-NN graph) at every size; above
:data:`raypipe.cluster.knn.SHARD_LIMIT` faces its k-NN search runs in Ray tasks (``--cpus`` of
them at a time), which ``auto-shards`` forces at every size. BCubed and pairwise F are exact,
over every face.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import resource
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from raypipe.cluster import CLUSTERERS
from raypipe.cluster.step import clusterer_spec
from raypipe.evaluation.metrics import bcubed_scores, contingency, pairwise_scores
from raypipe.testing.realistic_faces import make_realistic_faces

RAY_START_ATTEMPTS = 5
#: The synthetic faces imitate this model: its calibrated thresholds apply.
MODEL = "arcface-512"
SCALABLE = {
    "auto": {"name": "auto"},
    "auto-large": {"name": "auto", "exact_limit": 0},
    "auto-shards": {"name": "auto", "exact_limit": 0, "knn_method": "ivf-shards"},
    "chinese-whispers": {"name": "chinese-whispers"},
    "knn-graph": {"name": "knn-graph"},
    "leiden": {"name": "leiden"},
    "finch": {"name": "finch"},
}


def parse_size(text: str) -> int:
    multiplier = {"k": 1_000, "m": 1_000_000}.get(text[-1].lower(), 1)
    return int(float(text.rstrip("kKmM")) * multiplier)


def tree_usage(pid: int) -> tuple[int, float]:
    """Anonymous resident bytes and CPU seconds (reaped children's included) of ``pid`` and all
    its descendants (the Ray processes it started), from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    anon, ticks, todo = 0, 0, [pid]
    while todo:
        current = todo.pop()
        todo.extend(children.get(current, []))
        try:
            status = Path(f"/proc/{current}/status").read_text()
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        anon += sum(
            int(line.split()[1]) * 1024
            for line in status.splitlines()
            if line.startswith("RssAnon:")
        )
        ticks += sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
    return anon, ticks / os.sysconf("SC_CLK_TCK")


def sample_peak(peak: list[int], stop: threading.Event) -> None:
    while not stop.wait(1.0):
        peak[0] = max(peak[0], tree_usage(os.getpid())[0])


def start_ray(cpus: int) -> None:
    """A local Ray of ``cpus`` CPUs; tried again when a loaded machine misses Ray's start-up deadline."""
    import ray

    for attempt in range(RAY_START_ATTEMPTS):
        try:
            ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False)
            return
        except Exception:  # Ray raises a bare Exception on its 30 s raylet deadline
            ray.shutdown()
            if attempt == RAY_START_ATTEMPTS - 1:
                raise


def run_one(n: int, dim: int, name: str, cpus: int, scratch: str | None, results) -> None:
    """Generate, cluster and score in this (child) process; report figures through ``results``."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    peak, stop = [0], threading.Event()
    threading.Thread(target=sample_peak, args=(peak, stop), daemon=True).start()
    with tempfile.TemporaryDirectory(prefix="cluster-scale-", dir=scratch) as folder:
        out = np.lib.format.open_memmap(Path(folder) / "faces.npy", "w+", np.float32, (n, dim))
        data = make_realistic_faces(n, dim, seed=n + dim, out=out)
        start_ray(cpus)
        started, cpu_before = time.perf_counter(), tree_usage(os.getpid())[1]
        spec = clusterer_spec(SCALABLE[name], MODEL, cannot_link=False)
        labels = CLUSTERERS.build(spec).fit(data.X).labels_
        seconds = time.perf_counter() - started
        anon, cpu_after = tree_usage(os.getpid())
        stop.set()
    table = contingency(data.labels, labels)
    peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    results.put(
        {
            "seconds": seconds,
            "peak_gib": peak_gib,
            "private_gib": max(peak[0], anon) / 2**30,
            "cpu_seconds": cpu_after - cpu_before,
            "pairwise_f": pairwise_scores(table)["pairwise_f"],
            "bcubed_f": bcubed_scores(table)["bcubed_f"],
            "clusters": int(labels.max()) + 1,
            "people": len(np.unique(data.labels)),
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10k,100k", help="comma-separated, e.g. 10k,100k,1M")
    parser.add_argument("--dims", default="128,512")
    parser.add_argument("--clusterers", default=",".join(SCALABLE))
    parser.add_argument(
        "--cpus", type=int, default=os.cpu_count(), help="Ray CPUs (k-NN tasks at once)"
    )
    parser.add_argument(
        "--scratch", default=None, help="folder of the memory-mapped faces (default: TMPDIR)"
    )
    args = parser.parse_args()
    context = multiprocessing.get_context("spawn")
    print(
        f"{'n':>9} {'dim':>4} {'clusterer':17} {'seconds':>8} {'CPU s':>7} {'peak GiB':>8} {'private GiB':>11} "
        f"{'pair F':>7} {'BCubed F':>8} {'clusters':>8} {'people':>8}"
    )
    for size in map(parse_size, args.sizes.split(",")):
        for dim in map(int, args.dims.split(",")):
            for name in args.clusterers.split(","):
                if name == "auto" and size > 20_000:
                    continue  # the same path as auto-large
                results = context.Queue()
                child = context.Process(
                    target=run_one, args=(size, dim, name, args.cpus, args.scratch, results)
                )
                child.start()
                child.join()
                if child.exitcode != 0:
                    print(f"{size:>9} {dim:>4} {name:17} failed (exit code {child.exitcode})")
                    continue
                r = results.get()
                print(
                    f"{size:>9} {dim:>4} {name:17} {r['seconds']:8.1f} {r['cpu_seconds']:7.0f} {r['peak_gib']:8.2f} "
                    f"{r['private_gib']:11.2f} {r['pairwise_f']:7.4f} {r['bcubed_f']:8.4f} "
                    f"{r['clusters']:8d} {r['people']:8d}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
