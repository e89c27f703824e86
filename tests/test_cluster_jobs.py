"""Ray clusters of separate node processes on loopback: a real `ray job submit` of each jobs/
entrypoint (extract, cluster, tune, run) with the README's arguments on the bundled sample, and an
extraction that loses a worker node mid-run.

The clusters (see raypipe.testing.local_cluster) run in process groups of their own with private
ports and temp dirs, so they never touch the test session's Ray and are stopped by killing
exactly their processes.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

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


def submit_job(cluster: LocalCluster, script: str, *args: str) -> None:
    """``ray job submit --runtime-env jobs/runtime_env.yaml -- python jobs/SCRIPT ARGS``, as the
    README writes it; fails the test with the job's log unless the job succeeded."""
    job_id = f"raypipe-test-{Path(script).stem}-{uuid.uuid4().hex[:8]}"
    submit = ray_jobs(
        cluster, "submit", "--submission-id", job_id, "--runtime-env", "jobs/runtime_env.yaml",
        "--working-dir", ".", "--", "python", script, *args,
    )  # fmt: skip
    status = ray_jobs(cluster, "status", job_id, timeout=60)
    assert "succeeded" in status.stdout.lower(), submit.stdout[-4000:] + submit.stderr[-2000:]


@pytest.fixture(scope="module")
def extracted(cluster, tmp_path_factory) -> Path:
    """A run folder written by the extract job (README: ``jobs/extract.py INPUTS --out RUN --model-root DIR``)."""
    out = tmp_path_factory.mktemp("jobs") / "extracted"
    submit_job(cluster, "jobs/extract.py", "sample/photos", "--out", str(out), "--model-root", "/home/ray/models", "--no-tracking")
    return out


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_submitted_extract_job_writes_images_and_faces_of_every_sample_photo(extracted):
    summary = json.loads((extracted / "summary.json").read_text())
    images = pd.read_parquet(extracted / "images.parquet")
    assert summary["extract"]["images"] == len(images) == len(list_inputs([str(SAMPLE_PHOTOS)]).images)
    assert len(pd.read_parquet(extracted / "faces.parquet")) == summary["extract"]["faces"] > 0
    assert not (extracted / "clusters.csv").exists()


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_submitted_cluster_job_clusters_an_extracted_run(cluster, extracted):
    submit_job(cluster, "jobs/cluster.py", str(extracted), "--clusterer", "hdbscan", "--no-tracking")
    clusters = pd.read_csv(extracted / "clusters.csv")
    faces = pd.read_parquet(extracted / "faces.parquet", columns=["face_id"])
    assert clusters["face_id"].tolist() == faces["face_id"].tolist()
    assert json.loads((extracted / "summary.json").read_text())["cluster"]["clusters"] >= 2


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_submitted_tune_job_finds_the_shipped_search_space(cluster, extracted):
    """``--space tune/photos.yaml`` is read from the uploaded working directory."""
    submit_job(
        cluster, "jobs/tune.py", str(extracted), "--space", "tune/photos.yaml", "--labels", "sample/photos",
        "--search", "random", "--num-samples", "3", "--no-tracking",
    )  # fmt: skip
    results = pd.read_csv(extracted / "tune" / "results.csv")
    assert len(results) == 3 and (results["status"] == "ok").any()
    assert (extracted / "tune" / "best_config.yaml").is_file()


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_submitted_run_job_extracts_and_clusters_on_two_nodes(cluster, tmp_path):
    assert cluster.alive_nodes() == 2
    out = tmp_path / "run"
    submit_job(cluster, "jobs/run.py", "sample/photos", "--out", str(out), "--no-tracking")

    summary = json.loads((out / "summary.json").read_text())
    images = pd.read_parquet(out / "images.parquet")
    assert summary["extract"]["images"] == len(images) == len(list_inputs([str(SAMPLE_PHOTOS)]).images)
    faces = pd.read_parquet(out / "faces.parquet")
    assert len(faces) == summary["extract"]["faces"] > 0
    clusters = pd.read_csv(out / "clusters.csv")
    assert clusters["face_id"].tolist() == faces["face_id"].tolist()
    assert summary["cluster"]["clusters"] >= 2


def images_written(out) -> list[str]:
    """Image ids in the markers of the finished shards."""
    return [i for path in (out / "_shards").glob("*.done.json") for i in json.loads(path.read_text())["image_ids"]]


@pytest.mark.slow
@pytest.mark.timeout(600)  # about 1 min on an idle 2-core machine; the margin is for loaded ones
def test_extraction_survives_losing_a_worker_node_and_accounts_for_each_image_once(tmp_path):
    """Head (no CPUs) and two worker nodes; once both wrote shards, one is killed; the run ends
    with each image once, every shard written by a worker node, none by the dead one after."""
    out = tmp_path / "run"
    expected = len(list_inputs([str(SAMPLE_PHOTOS)]).images)
    with LocalCluster(workers=2, cpus_per_node=1, head_cpus=0) as cluster:
        driver = subprocess.Popen(
            [sys.executable, "-m", "raypipe.cli", "extract", str(SAMPLE_PHOTOS), "--out", str(out), "--no-tracking",
             "--set", "extract.shard_size=1", "--set", "extract.max_shard_size=1", "--set", "extract.embedder={name: feature, feature: color-hist}",
             "--set", f"ray.address={cluster.address}"],
            cwd=REPO, env=cluster.environment(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 300
            nodes: set[str] = set()
            while len(nodes) < 2 and driver.poll() is None and time.monotonic() < deadline:
                time.sleep(0.2)
                nodes = {json.loads(p.read_text())["node"] for p in (out / "_shards").glob("*.done.json")}
            assert len(nodes) == 2, f"shards not written by both worker nodes: {nodes}"
            assert driver.poll() is None and len(images_written(out)) < expected, "the run ended before a node was lost"
            cluster.kill_worker(2)
            killed_at = time.time()
            _, stderr = driver.communicate(timeout=240)
        finally:
            driver.kill()
        assert driver.returncode == 0, stderr[-3000:]
        states = node_states_once_one_is_dead(cluster)
    dead = {i for i, state in states.items() if state["state"] != "ALIVE"}
    workers = {i for i, state in states.items() if not state["head"]}
    assert len(dead) == 1 and dead < workers
    markers = {p: json.loads(p.read_text()) for p in (out / "_shards").glob("*.done.json")}
    assert {m["node"] for m in markers.values()} == workers, "shards written elsewhere than on the two worker nodes"
    assert all(p.stat().st_mtime <= killed_at for p, m in markers.items() if m["node"] in dead)
    images = pd.read_parquet(out / "images.parquet")
    written = images_written(out)
    assert len(images) == len(written) == len(set(written)) == expected == images["image_id"].nunique()
    summary = json.loads((out / "summary.json").read_text())["extract"]
    assert summary["images"] == expected and summary["faces"] == len(pd.read_parquet(out / "faces.parquet"))


def node_states_once_one_is_dead(cluster: LocalCluster, timeout: float = 120) -> dict[str, dict]:
    """Node id -> state, once the dashboard has noticed the killed node (its heartbeats stop)."""
    deadline = time.monotonic() + timeout
    while True:
        states = {node["id"]: node for node in cluster.nodes()}
        if any(node["state"] != "ALIVE" for node in states.values()) or time.monotonic() > deadline:
            return states
        time.sleep(1)
