"""Scale benchmark of the scalable clusterers on realistic synthetic face embeddings.

    nice -n 10 python bench/cluster_scale.py --sizes 10k,100k --dims 128,512
    nice -n 10 python bench/cluster_scale.py --sizes 1M --dims 128 --clusterers auto-large
    nice -n 10 python bench/cluster_scale.py --sizes 10M --dims 128 --clusterers auto-large
    OMP_NUM_THREADS=1 nice -n 10 python bench/cluster_scale.py --sizes 10k,100k --dims 549 \
        --clusterers auto-large,auto-drawn,auto-drawn-k --code before=/tmp/old-checkout

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

``auto-drawn`` is the default clusterer as a comic run of the drawn-face encoder calls it
(model ``feature:drawn-densenet``: the run's vectors standardised, then Leiden communities of
the k-NN graph), ``auto-drawn-k`` the same told ``n_clusters`` (the synthetic people's count,
as a user who knows it would). Their BCubed figures say nothing about drawn faces (the faces
imitate ArcFace on LFW); only time and memory count. ``stages`` splits the clustering: wall
seconds (driver CPU seconds; private GiB peak sampled within) of the standardisation, the k-NN
search, the thresholded graph, its igraph copy, the rest of the Leiden step (leidenalg's
graph) and its passes (``leidenalg.Optimiser.optimise_partition``, counted). ``--code LABEL=DIR``
runs each row again with the raypipe of another checkout (the code before a change, in a
temporary worktree) as a baseline in the same invocation.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

RAY_START_ATTEMPTS = 5
#: The synthetic faces imitate this model: its calibrated thresholds apply.
MODEL = "arcface-512"
#: The drawn-face encoder: ``auto`` clusters its vectors into Leiden communities.
DRAWN_MODEL = "feature:drawn-densenet"
DRAWN = {"auto-drawn", "auto-drawn-k"}
#: Stages timed apart: (label, module, attribute path); a stage called within another is
#: counted apart and left out of the other's figures.
STAGES = (
    ("standardise", "raypipe.cluster.auto", "run_standardised"),
    ("knn", "raypipe.cluster.graph", "nearest_neighbours"),
    ("knn", "raypipe.cluster.auto", "nearest_neighbours"),
    ("graph", "raypipe.cluster.graph", "neighbour_graph"),
    ("graph", "raypipe.cluster.auto", "neighbour_graph"),
    ("igraph", "raypipe.cluster.graph", "_igraph"),
    ("leiden", "raypipe.cluster.graph", "Leiden._communities"),
    ("passes", "leidenalg", "Optimiser.optimise_partition"),
)
#: Not a clusterer: the drawn path's standardisation alone (its memory at sizes the k-NN
#: search would take hours on); its scores are those of one cluster, its ``result`` the
#: SHA-256 of the standardised vectors (of the labels for a clusterer).
STANDARDISE_ONLY = "standardise-only"
SCALABLE = {
    "auto-drawn": {"name": "auto"},
    "auto-drawn-k": {"name": "auto"},
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


class StageClock:
    """Wall and driver CPU seconds, calls and sampled private-memory peak per stage
    (:data:`STAGES`), each without the stages called within it."""

    def __init__(self):
        self.stack: list[tuple[str, list[float]]] = []  # (label, [wall, CPU] of the stages within)
        self.figures: dict[str, dict] = {}

    def wrap(self, label: str, module_name: str, path: str) -> None:
        import importlib

        owner = importlib.import_module(module_name)
        *parents, name = path.split(".")
        for parent in parents:
            owner = getattr(owner, parent)
        function = getattr(owner, name)

        def timed(*args, **kwargs):
            entry = self.figures.setdefault(label, {"wall": 0.0, "cpu": 0.0, "calls": 0, "peak": 0})
            within = [0.0, 0.0]
            self.stack.append((label, within))
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                self.stack.pop()
                entry["wall"] += wall - within[0]
                entry["cpu"] += cpu - within[1]
                entry["calls"] += 1
                if self.stack:
                    self.stack[-1][1][0] += wall
                    self.stack[-1][1][1] += cpu

        setattr(owner, name, timed)

    def sample(self, anon: int) -> None:
        if self.stack:
            entry = self.figures[self.stack[-1][0]]
            entry["peak"] = max(entry["peak"], anon)


def sample_peak(peak: list[int], stop: threading.Event, clock: StageClock) -> None:
    while not stop.wait(1.0):
        anon = tree_usage(os.getpid())[0]
        peak[0] = max(peak[0], anon)
        clock.sample(anon)


def run_one(n: int, dim: int, name: str, cpus: int, scratch: str | None) -> dict:
    """Generate, cluster and score in this (child) process; return its figures."""
    from raypipe.cluster import CLUSTERERS
    from raypipe.cluster.step import clusterer_spec
    from raypipe.evaluation.metrics import bcubed_scores, contingency, pairwise_scores
    from raypipe.testing.realistic_faces import make_realistic_faces

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    clock = StageClock()
    for stage in STAGES:
        clock.wrap(*stage)
    peak, stop = [0], threading.Event()
    threading.Thread(target=sample_peak, args=(peak, stop, clock), daemon=True).start()
    with tempfile.TemporaryDirectory(prefix="cluster-scale-", dir=scratch) as folder:
        out = np.lib.format.open_memmap(Path(folder) / "faces.npy", "w+", np.float32, (n, dim))
        data = make_realistic_faces(n, dim, seed=n + dim, out=out)
        people = len(np.unique(data.labels))
        if name != STANDARDISE_ONLY:
            start_ray(cpus)
        started, cpu_before = time.perf_counter(), tree_usage(os.getpid())[1]
        if name == STANDARDISE_ONLY:
            from raypipe.cluster import auto

            result = auto.run_standardised(data.X)
            labels = np.zeros(n, np.int64)
        else:
            params = SCALABLE[name] | ({"n_clusters": people} if name == "auto-drawn-k" else {})
            spec = clusterer_spec(
                params, DRAWN_MODEL if name in DRAWN else MODEL, cannot_link=False
            )
            labels = result = CLUSTERERS.build(spec).fit(data.X).labels_
        seconds = time.perf_counter() - started
        anon, cpu_after = tree_usage(os.getpid())
        stop.set()
    table = contingency(data.labels, labels)
    peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    return {
        "seconds": seconds,
        "peak_gib": peak_gib,
        "private_gib": max(peak[0], anon) / 2**30,
        "cpu_seconds": cpu_after - cpu_before,
        "pairwise_f": pairwise_scores(table)["pairwise_f"],
        "bcubed_f": bcubed_scores(table)["bcubed_f"],
        "clusters": int(labels.max()) + 1,
        "people": people,
        "stages": clock.figures,
        "result_sha": hashlib.sha256(np.ascontiguousarray(result).data).hexdigest()[:10],
    }


def in_child(args: list[str], code: str | None) -> dict | None:
    """Figures of one row from a fresh interpreter importing raypipe from ``code`` (None: this
    checkout); None when it failed."""
    root = str(Path(code or Path(__file__).parents[1]).resolve())
    env = os.environ | {"PYTHONPATH": root}
    done = subprocess.run(
        [sys.executable, __file__, "--one", *args], env=env, stdout=subprocess.PIPE, check=False
    )
    lines = done.stdout.decode().strip().splitlines()
    return json.loads(lines[-1]) if done.returncode == 0 and lines else None


def stages_text(stages: dict) -> str:
    """``label wall s (CPU s, GiB)`` per stage, calls counted above one."""
    return " ".join(
        f"{label} {s['wall']:.1f} ({s['cpu']:.1f}, {s['peak'] / 2**30:.2f}G"
        + (f", {s['calls']}x)" if s["calls"] > 1 else ")")
        for label, s in stages.items()
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10k,100k", help="comma-separated, e.g. 10k,100k,1M")
    parser.add_argument("--dims", default="128,512")
    parser.add_argument(
        "--clusterers",
        default=",".join(SCALABLE),
        help=f"of {', '.join(SCALABLE)} or {STANDARDISE_ONLY}",
    )
    parser.add_argument(
        "--cpus", type=int, default=os.cpu_count(), help="Ray CPUs (k-NN tasks at once)"
    )
    parser.add_argument(
        "--scratch", default=None, help="folder of the memory-mapped faces (default: TMPDIR)"
    )
    parser.add_argument(
        "--code", action="append", default=[], metavar="LABEL=DIR",
        help="also run each row with the raypipe of the checkout DIR (a baseline), labelled LABEL",
    )  # fmt: skip
    parser.add_argument("--one", nargs=5, help=argparse.SUPPRESS)  # a child's row
    args = parser.parse_args()
    if args.one:
        n, dim, name, cpus, scratch = args.one
        figures = run_one(int(n), int(dim), name, int(cpus), None if scratch == "-" else scratch)
        print(json.dumps(figures))
        return
    codes = [("now", None)] + [tuple(item.split("=", 1)) for item in args.code]
    print(
        f"{'n':>9} {'dim':>4} {'clusterer':17} {'code':6} {'seconds':>8} {'CPU s':>7} {'peak GiB':>8} "
        f"{'private GiB':>11} {'pair F':>7} {'BCubed F':>8} {'clusters':>8} {'people':>8} "
        f"{'ratio s':>7} {'ratio CPU':>9} {'result':10} stages: wall s (driver CPU s, private GiB)"
    )
    for size in map(parse_size, args.sizes.split(",")):
        for dim in map(int, args.dims.split(",")):
            baseline = None
            for name in args.clusterers.split(","):
                if name == "auto" and size > 20_000:
                    continue  # the same path as auto-large
                for label, code in codes:
                    row = [str(size), str(dim), name, str(args.cpus), args.scratch or "-"]
                    r = in_child(row, code)
                    if r is None:
                        print(f"{size:>9} {dim:>4} {name:17} {label:6} failed", flush=True)
                        continue
                    baseline = baseline or r  # the first row of this size and dim
                    print(
                        f"{size:>9} {dim:>4} {name:17} {label:6} {r['seconds']:8.1f} {r['cpu_seconds']:7.0f} "
                        f"{r['peak_gib']:8.2f} {r['private_gib']:11.2f} {r['pairwise_f']:7.4f} "
                        f"{r['bcubed_f']:8.4f} {r['clusters']:8d} {r['people']:8d} "
                        f"{r['seconds'] / baseline['seconds']:6.2f}x "
                        f"{r['cpu_seconds'] / baseline['cpu_seconds']:8.2f}x {r['result_sha']:10} {stages_text(r['stages'])}",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
