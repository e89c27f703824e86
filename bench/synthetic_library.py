"""Re-cluster, correct and export a run folder of up to millions of synthetic faces, step by step.

    nice python bench/synthetic_library.py --faces 100000 1000000 [--store local|s3] [--work DIR]

Extraction through the real models runs at a few images per second on a 2-core machine, so a
run of 1M photos cannot be extracted here; what follows extraction can be measured on a run folder
of the same layout: :func:`raypipe.testing.synthetic_run.write_synthetic_run` writes N realistic
synthetic faces (ArcFace's statistics, 128-d, one face per photo) shard by shard through the
writer of a real run (``faces.parquet/``, ``images.parquet/``, ``chips.parquet/`` with small
placeholder chips, markers), in shards of 1,024 photos (``extract.max_shard_size``). Then, each
command in its own process as in ``bench/library_scale.py``: ``raypipe cluster`` (the first
clustering), ``raypipe correct`` (merge the two largest clusters), ``raypipe cluster`` again (the
re-cluster, corrections applied) and ``raypipe export --folders``. Per step: wall and CPU seconds
(the command's own process: Ray's workers are not counted), the driver's peak RSS, the run folder's files and
bytes, the object-store requests (``--store s3``: moto on loopback) and, after each clustering,
BCubed F against the synthetic identities and whether it searched the k-NN or read the table
the clustering before kept in ``RUN/neighbours/`` (the line of ``RUN/raypipe.log``). The sizes run in one invocation are each other's
baseline: files and requests should follow the shards, time and memory the faces.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

import numpy as np

from bench.library_scale import BUCKET, REPO, S3Server, run_step
from raypipe import storage
from raypipe.evaluation.metrics import score_clustering
from raypipe.layout import RunLayout
from raypipe.testing.synthetic_run import write_synthetic_run

SHARD_SIZE = 1024


def steps(run: str) -> list[tuple[str, list[str]]]:
    return [
        ("cluster", ["cluster", run, "--no-tracking"]),
        ("correct", ["correct", run, "merge", "0", "1"]),
        ("recluster", ["cluster", run, "--no-tracking"]),
        ("export", ["export", run, "--folders"]),
    ]


def bcubed_f(run: str, labels: np.ndarray) -> float:
    clusters = storage.read_table(RunLayout.at(run).clusters_table, columns=["cluster"]).column("cluster")
    return score_clustering(labels, clusters.to_numpy())["bcubed_f"]


def knn_source(run: str) -> str:
    """What the last clustering of ``run`` did for its k-NN, from the run's log."""
    lines = (storage.location(run) / "raypipe.log").read_text().splitlines()
    said = [line for line in lines if "k-NN: reusing" in line or "k-NN: neighbours of" in line]
    return "read from neighbours/" if said and "reusing" in said[-1] else "searched"


def library(faces: int, work: Path, s3: S3Server | None) -> list[dict]:
    name = f"synthetic-{faces}"
    run = f"s3://{BUCKET}/{name}" if s3 else str(work / name)
    started, cpu = time.perf_counter(), time.process_time()
    labels = write_synthetic_run(run, faces, shard_size=SHARD_SIZE)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    shards = -(-faces // SHARD_SIZE)
    print(f"  N={faces} build     {seconds:7.1f}s  CPU {cpu:7.1f}s  ({shards} shards, {len(np.unique(labels))} people)", flush=True)
    rows = []
    for step, args in steps(run):
        row = run_step(step, args, REPO, s3, name, run, f"N={faces}")
        if step.endswith("cluster"):
            row["bcubed_f"] = bcubed_f(run, labels)
            row["knn"] = knn_source(run)
            print(f"  N={faces} {step:9s} BCubed F {row['bcubed_f']:.4f}  k-NN {row['knn']}", flush=True)
        rows.append({**row, "shards": shards})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--store", choices=["s3", "local"], default="local")
    parser.add_argument("--work", type=Path, help="folder of the run folders (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the run folders (their raypipe.log)")
    args = parser.parse_args()
    results = {}
    kept = nullcontext(tempfile.mkdtemp(dir=args.work)) if args.keep else None
    with kept or tempfile.TemporaryDirectory(dir=args.work) as tmp:
        s3 = S3Server(Path(tmp)) if args.store == "s3" else None
        if s3:
            os.environ.update(s3.env)  # the build writes into the bucket too
        try:
            for faces in args.faces:
                results[faces] = library(faces, Path(tmp), s3)
        finally:
            if s3:
                s3.close()
    print(json.dumps(results, indent=1))
    first = args.faces[0]
    for faces in args.faces[1:]:
        for row, base in zip(results[faces], results[first]):
            print(f"N={faces} vs N={first} {row['step']:9s} time x{row['seconds'] / base['seconds']:.1f}  "
                  f"CPU x{row['cpu_seconds'] / max(base['cpu_seconds'], 1e-9):.1f}  driver {row['peak_mib']:.0f} vs {base['peak_mib']:.0f} MiB  "
                  f"files per shard {row['files'] / row['shards']:.2f} vs {base['files'] / base['shards']:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
