"""How long the report takes and how big it gets for a large synthetic run (no chip files).

    python bench/report_scale.py [--faces 100000] [--clusters 10000]

Prints the seconds and the size of report.html; chips are absent, so this measures everything
but reading images (which the caps bound: <= 60 galleries x (24 chips + 100 for the mean)).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from raypipe.layout import RunLayout
from raypipe.report import ReportOptions, write_report


def synthetic_run(root: Path, faces: int, clusters: int, dim: int = 128, seed: int = 0) -> None:
    """faces.parquet and clusters.csv: Zipf-sized clusters around random centres, 5 % unassigned."""
    rng = np.random.default_rng(seed)
    layout = RunLayout.at(root)
    root.mkdir(parents=True, exist_ok=True)
    sizes = rng.zipf(1.6, clusters).astype(float)
    cluster = rng.choice(clusters, size=faces, p=sizes / sizes.sum())
    centres = rng.normal(size=(clusters, dim))
    embeddings = centres[cluster] + 0.5 * rng.normal(size=(faces, dim))
    embeddings /= np.linalg.norm(embeddings, axis=1, keepdims=True)
    cluster[rng.random(faces) < 0.05] = -1
    ids = [f"{i:016x}_000" for i in range(faces)]
    paths = [f"/data/person{c}/img{i}.jpg" for i, c in enumerate(cluster)]
    box = {"x1": 0.0, "y1": 0.0, "x2": 100.0, "y2": 100.0}
    pd.DataFrame({"face_id": ids, "image_path": paths, **box,
                  "embedding": list(embeddings.astype(np.float32))}).to_parquet(layout.faces)  # fmt: skip
    pd.DataFrame({"face_id": ids, "image_path": paths, **box, "det_score": 1.0,
                  "cluster": cluster}).to_csv(layout.clusters, index=False)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=int, default=100_000)
    parser.add_argument("--clusters", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "run"
        synthetic_run(run, args.faces, args.clusters)
        started = time.perf_counter()
        report = write_report(run, ReportOptions(labels="/data"))
        seconds = time.perf_counter() - started
        print(f"{args.faces} faces, {args.clusters} clusters: report in {seconds:.1f}s, "
              f"{report.stat().st_size / 1e6:.2f} MB")  # fmt: skip


if __name__ == "__main__":
    main()
