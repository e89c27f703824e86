"""The synthetic run folder of the scale benchmark (``bench/synthetic_library.py``): a real run's
layout, files per shard, and clustered by the CLI as a run is."""

from __future__ import annotations

import numpy as np
import pandas as pd

from raypipe.chips import ChipStore
from raypipe.cli import main
from raypipe.evaluation.metrics import score_clustering
from raypipe.layout import RunLayout
from raypipe.pipeline.shards import FACES_SCHEMA, completed_shards
from raypipe.testing.synthetic_run import write_synthetic_run


def test_synthetic_run_has_a_runs_layout_and_clusters_through_the_cli(tmp_path):
    run = tmp_path / "run"
    labels = write_synthetic_run(run, 3000, shard_size=1000)
    layout = RunLayout.at(run)
    files = {str(p.relative_to(run)) for p in run.rglob("*") if p.is_file()}
    assert len(files) == 3 * 5 + 1 and "config.json" in files  # 4 tables + a marker per shard
    assert sorted(completed_shards(layout)) == ["000000", "000001", "000002"]
    faces = layout.read_table("faces")
    assert faces.schema == FACES_SCHEMA and faces.num_rows == len(labels) == 3000
    assert ChipStore(layout).available(faces.column("face_id").to_pylist()).all()
    assert main(["cluster", str(run), "--no-tracking"]) == 0
    clusters = pd.read_parquet(run / "clusters.parquet")
    assert (clusters.face_id == faces.column("face_id").to_pandas()).all()  # labels follow the table
    assert score_clustering(labels, clusters.cluster.to_numpy())["bcubed_f"] > 0.93
    assert len(np.unique(labels)) > 300
