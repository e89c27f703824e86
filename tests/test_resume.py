"""A killed extraction, started again with the same command, redoes nothing and ends as a clean run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import REPO, SAMPLE_PHOTOS

from raypipe.io.inputs import list_inputs

SHARD_SIZE = 4
SETTINGS = ["--set", f"extract.shard_size={SHARD_SIZE}", "--set", "ray.detect_actors=1"]


def extract_command(out: Path) -> list[str]:
    return [sys.executable, "-m", "raypipe.cli", "extract", str(SAMPLE_PHOTOS), "--out", str(out), "--no-tracking", *SETTINGS]


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}


def kill_group(process: subprocess.Popen) -> None:
    """SIGKILL the driver and the local Ray it started (its own process group), and wait for them."""
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    raise AssertionError("processes of the killed run are still alive")


def markers(out: Path) -> dict[str, tuple[int, str]]:
    return {p.name: (p.stat().st_mtime_ns, p.read_text()) for p in sorted((out / "_shards").glob("*.done.json"))}


def run_killed_after_first_shard(out: Path) -> dict[str, tuple[int, str]]:
    process = subprocess.Popen(
        extract_command(out), cwd=REPO, env=clean_env(), start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 150
        while not markers(out) and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        kill_group(process)
    return markers(out)


@pytest.mark.slow
@pytest.mark.timeout(420)
def test_killed_run_resumes_without_redoing_shards(tmp_path, ray_session):
    from raypipe.config import Config
    from raypipe.pipeline.extract import extract

    out = tmp_path / "resumed"
    before = run_killed_after_first_shard(out)
    total_shards = -(-len(list_inputs([str(SAMPLE_PHOTOS)]).images) // SHARD_SIZE)
    assert 1 <= len(before) < total_shards, f"the run was not stopped mid-way: {len(before)} shards done"

    rerun = subprocess.run(extract_command(out), cwd=REPO, env=clean_env(), capture_output=True, text=True, timeout=300, check=False)
    assert rerun.returncode == 0, rerun.stderr[-3000:]

    after = markers(out)
    assert {name: after[name] for name in before} == before, "a finished shard was written again"
    summary = json.loads((out / "summary.json").read_text())["extract"]
    assert summary["skipped_shards"] == len(before) and summary["new_shards"] >= 1
    image_ids = [i for _, text in after.values() for i in json.loads(text)["image_ids"]]
    assert len(image_ids) == len(set(image_ids)), "an image was extracted twice"

    clean = tmp_path / "clean"
    config = Config.load(overrides=[s for s in SETTINGS if s != "--set"] + ["tracking.enabled=false"])
    extract([str(SAMPLE_PHOTOS)], str(clean), config)
    resumed_faces, clean_faces = pd.read_parquet(out / "faces.parquet"), pd.read_parquet(clean / "faces.parquet")
    assert resumed_faces["face_id"].tolist() == clean_faces["face_id"].tolist()
    np.testing.assert_allclose(resumed_faces[["x1", "y1", "x2", "y2"]], clean_faces[["x1", "y1", "x2", "y2"]])
    np.testing.assert_allclose(np.stack(resumed_faces["embedding"]), np.stack(clean_faces["embedding"]), atol=1e-5)
    pd.testing.assert_frame_equal(pd.read_parquet(out / "images.parquet"), pd.read_parquet(clean / "images.parquet"))
    chips = [pd.read_parquet(run / "chips.parquet").set_index("face_id").sort_index() for run in (out, clean)]
    pd.testing.assert_index_equal(chips[0].index, chips[1].index)
