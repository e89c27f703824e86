"""Extraction throughput on a loopback Ray cluster with 1, then 2 worker node processes.

    python bench/extract_cluster.py [IMAGES_DIR] [--copies N] [--workers 1 2] [--cpus-per-node 1]

Each size gets a fresh cluster (raypipe.testing.local_cluster: a head without CPUs plus worker nodes);
the driver connects to it with ``--address`` like a job would, and extracts ``--copies`` linked
copies of the images (distinct paths, so distinct ids). Prints wall seconds, images/s and the
speed-up over one worker. Cluster start-up is outside the clock, the driver's Ray connection and
model loading inside it. On a machine with fewer free cores than worker nodes the figures only
show the overhead of going multi-node.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from raypipe.io.inputs import list_inputs
from raypipe.testing.local_cluster import LocalCluster

REPO = Path(__file__).resolve().parents[1]


def linked_copies(images: list[str], folder: Path, copies: int) -> Path:
    """``folder/<copy>/<i>.<ext>`` symlinks to ``images``."""
    for copy in range(copies):
        for index, image in enumerate(images):
            link = folder / str(copy) / f"{index:06d}{Path(image).suffix}"
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(Path(image).resolve())
    return folder


def timed_extract(cluster: LocalCluster, images: Path, out: Path, overrides: list[str]) -> tuple[float, int]:
    command = [sys.executable, "-m", "raypipe.cli", "extract", str(images), "--out", str(out), "--no-tracking",
               "--address", cluster.address, *[a for o in overrides for a in ("--set", o)]]  # fmt: skip
    start = time.perf_counter()
    subprocess.run(command, cwd=REPO, env=cluster.environment(), check=True, capture_output=True)
    seconds = time.perf_counter() - start
    return seconds, json.loads((out / "summary.json").read_text())["extract"]["images"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("images", nargs="?", default=str(REPO / "sample" / "photos"))
    parser.add_argument("--copies", type=int, default=2)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--cpus-per-node", type=int, default=1)
    parser.add_argument("--set", dest="overrides", action="append", default=[], help="config override (repeatable)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        images = linked_copies(list_inputs([args.images]).images, Path(tmp) / "images", args.copies)
        rates = {}
        for workers in args.workers:
            with LocalCluster(workers=workers, cpus_per_node=args.cpus_per_node) as cluster:
                seconds, n = timed_extract(cluster, images, Path(tmp) / f"run-{workers}", args.overrides)
            rates[workers] = n / seconds
            print(f"{workers} worker node(s) x {args.cpus_per_node} CPU: {n} images in {seconds:6.1f} s = "
                  f"{rates[workers]:6.2f} images/s  (x{rates[workers] / rates[args.workers[0]]:.2f})", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
