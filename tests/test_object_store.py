"""Inputs and run folder in an object store (moto's S3 server on loopback) or behind ``file://``:
``run``, ``cluster``, ``eval``, ``report`` and ``tune`` complete with tracking on, MLflow holds
their runs and artifacts, and the report in the store references chips that are there.

Each command runs as a user runs it, in its own process with its own local Ray, so the S3
endpoint and credentials reach the Ray workers through the environment as on a real cluster.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml
from mlflow.tracking import MlflowClient

from tests.conftest import REPO, SAMPLE_PHOTOS

pytestmark = pytest.mark.slow

PEOPLE = ("obama", "tony_blair")
PHOTOS_PER_PERSON = 3
BUCKET = "raypipe"
GRID = {"clusterer": {"agglomerative": {"threshold": {"choice": [0.08, 0.12]}}}}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint():
    """A moto S3 server on loopback holding the sample's inputs under ``s3://raypipe/photos/``."""
    endpoint = f"http://127.0.0.1:{free_port()}"
    port = endpoint.rsplit(":", 1)[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", port],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(endpoint, timeout=1)
                break
            except OSError:
                time.sleep(0.5)
        client = s3_client(endpoint)
        client.create_bucket(Bucket=BUCKET)
        for person in PEOPLE:
            for photo in sorted((SAMPLE_PHOTOS / person).iterdir())[:PHOTOS_PER_PERSON]:
                client.upload_file(str(photo), BUCKET, f"photos/{person}/{photo.name}")
        yield endpoint
    finally:
        server.terminate()
        server.wait(timeout=30)


def s3_client(endpoint: str):
    import boto3

    return boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="testing",
                        aws_secret_access_key="testing", region_name="us-east-1")  # fmt: skip


def raypipe(args: list[str], env: dict[str, str], cwd: Path) -> None:
    """``raypipe ARGS`` in its own process; fails the test with the end of its output."""
    done = subprocess.run([sys.executable, "-m", "raypipe.cli", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=900, check=False)  # fmt: skip
    assert done.returncode == 0, f"raypipe {' '.join(args)}: exit {done.returncode}\n{done.stderr[-3000:]}"


def runs_by_command(uri: str) -> dict[str, list]:
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("raypipe")
    by_command: dict[str, list] = {}
    for run in client.search_runs([experiment.experiment_id]):
        by_command.setdefault(run.data.tags["raypipe.command"], []).append(run)
    return by_command


def artifacts(uri: str, run) -> set[str]:
    return {a.path for a in MlflowClient(uri).list_artifacts(run.info.run_id)}


@pytest.mark.parametrize("store", ["s3", "file"])
def test_every_command_completes_on_a_uri_run_folder_with_tracking_on(store, s3_endpoint, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    tracking = f"sqlite:///{tmp_path / 'mlflow.db'}"
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    env.update(AWS_ENDPOINT_URL=s3_endpoint, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
               AWS_DEFAULT_REGION="us-east-1", MLFLOW_TRACKING_URI=tracking,
               PYTHONPATH=os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]))  # fmt: skip
    inputs = f"s3://{BUCKET}/photos"
    out = f"s3://{BUCKET}/runs/{tmp_path.name}" if store == "s3" else f"file://{tmp_path / 'run'}"
    space = tmp_path / "space.yaml"
    space.write_text(yaml.safe_dump(GRID), encoding="utf-8")

    raypipe(["run", inputs, "--out", out, "--labels", inputs], env, work)
    raypipe(["cluster", out], env, work)
    raypipe(["eval", out, "--labels", inputs], env, work)
    raypipe(["report", out, "--labels", inputs], env, work)
    raypipe(["tune", out, "--space", str(space), "--search", "grid", "--labels", inputs], env, work)

    runs = runs_by_command(tracking)
    assert {"run", "cluster", "eval", "report", "tune"} <= set(runs)
    (run,) = runs["run"]
    assert run.data.metrics["images"] == len(PEOPLE) * PHOTOS_PER_PERSON and run.data.metrics["errors"] == 0
    assert {"config.json", "summary.json", "clusters.csv", "metrics.json", "report.html"} <= artifacts(tracking, run)
    assert "clusters.csv" in artifacts(tracking, runs["cluster"][0])
    assert runs["eval"][0].data.metrics["images_scored"] == len(PEOPLE) * PHOTOS_PER_PERSON
    assert "metrics.json" in artifacts(tracking, runs["eval"][0])
    assert "report.html" in artifacts(tracking, runs["report"][0])
    assert {"results.csv", "best_config.yaml"} <= artifacts(tracking, runs["tune"][0])
    assert len(runs["tune-trial"]) == 2

    if store == "s3":
        prefix = f"runs/{tmp_path.name}"
        client = s3_client(s3_endpoint)
        page = client.get_object(Bucket=BUCKET, Key=f"{prefix}/report.html")["Body"].read().decode()
        keys = {o["Key"] for o in client.list_objects_v2(Bucket=BUCKET, Prefix=prefix)["Contents"]}
        present = {key.removeprefix(f"{prefix}/") for key in keys}
    else:
        page = (tmp_path / "run" / "report.html").read_text(encoding="utf-8")
        present = {p.relative_to(tmp_path / "run").as_posix() for p in (tmp_path / "run").rglob("*")}
    sources = set(re.findall(r'src="([^"]+)"', page))
    chips = {s for s in sources if s.startswith("report_files/chips/")}
    assert chips and any(s.startswith("report_files/") for s in sources), "the report shows no image"
    assert {s for s in sources if not s.startswith("data:")} <= present, "the report links missing images"
    assert all(person in page for person in PEOPLE)  # the folder labels of the S3 inputs
    assert not (work / "s3:").exists(), "an s3:// path was written as a local folder"
