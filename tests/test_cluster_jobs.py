"""A real `ray job submit` of jobs/run.py to a two-node Ray cluster on loopback.

The cluster (a head and a worker node, one CPU each, see raypipe.testing.local_cluster) runs in process
groups of its own with private ports and temp dir, so it never touches the test session's Ray
and is stopped by killing exactly its processes.
"""

from __future__ import annotations

import json
import shutil
import subprocess

import pandas as pd
import pytest
from conftest import REPO, SAMPLE_PHOTOS

from raypipe.io.inputs import list_inputs
from raypipe.testing.local_cluster import LocalCluster

pytestmark = pytest.mark.skipif(
    shutil.which("ray", path=LocalCluster.environment()["PATH"]) is None, reason="needs the `ray` command line"
)


@pytest.fixture(scope="module")
def cluster():
    pytest.importorskip("aiohttp_cors", reason="job submission needs ray[default] (pip install raypipe[cluster])")
    with LocalCluster(workers=1, cpus_per_node=1, head_cpus=1) as running:
        yield running


def ray_jobs(cluster: LocalCluster, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["ray", "job", *args[:1], "--address", cluster.dashboard_url, *args[1:]],
        cwd=REPO, env=cluster.environment(), capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_submitted_run_job_extracts_and_clusters_on_two_nodes(cluster, tmp_path):
    assert cluster.alive_nodes() == 2
    out = tmp_path / "run"
    submit = ray_jobs(
        cluster, "submit", "--submission-id", "raypipe-test-run", "--runtime-env", "jobs/runtime_env.yaml",
        "--working-dir", ".", "--", "python", "jobs/run.py", "sample/photos", "--out", str(out), "--no-tracking",
    )  # fmt: skip
    status = ray_jobs(cluster, "status", "raypipe-test-run", timeout=60)
    assert "succeeded" in status.stdout.lower(), submit.stdout[-4000:] + submit.stderr[-2000:]

    summary = json.loads((out / "summary.json").read_text())
    images = pd.read_parquet(out / "images.parquet")
    assert summary["extract"]["images"] == len(images) == len(list_inputs([str(SAMPLE_PHOTOS)]).images)
    faces = pd.read_parquet(out / "faces.parquet")
    assert len(faces) == summary["extract"]["faces"] > 0
    clusters = pd.read_csv(out / "clusters.csv")
    assert clusters["face_id"].tolist() == faces["face_id"].tolist()
    assert summary["cluster"]["clusters"] >= 2
