"""Run folders at scale: chips live in the shards, clustering writes no file per face, a folder per
cluster is an explicit export, and run folders of earlier versions (``chips/<face_id>.jpg``) still read."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pandas as pd
import pytest

from raypipe.chips import ChipStore
from raypipe.cli import main
from raypipe.layout import RunLayout
from raypipe.report import write_report
from tests.conftest import REPO

SAMPLE_COMIC = REPO / "sample" / "comic"


@pytest.fixture
def run_copy(sample_run, tmp_path):
    return shutil.copytree(sample_run, tmp_path / "run", ignore=shutil.ignore_patterns("report*"))


def run_files(run) -> set[str]:
    return {str(p.relative_to(run)) for p in run.rglob("*") if p.is_file()}


def face_table(run) -> pd.DataFrame:
    clusters = pd.read_csv(run / "clusters.csv")
    return clusters.merge(pd.read_parquet(run / "faces.parquet", columns=["face_id", "face_index"]), on="face_id")


def make_legacy(run) -> dict[str, bytes]:
    """Turn ``run`` into a run folder of an earlier version: one ``chips/<face_id>.jpg`` per face."""
    layout = RunLayout.at(run)
    store = ChipStore(layout)
    chips = store.read(pd.read_parquet(run / "faces.parquet").face_id)
    layout.chip_files.mkdir()
    for face, jpeg in chips.items():
        store.legacy_file(face).write_bytes(jpeg)
    shutil.rmtree(layout.chips)
    return chips


def test_recluster_writes_no_file_per_face(run_copy):
    before = run_files(run_copy)
    faces = len(pd.read_parquet(run_copy / "faces.parquet"))
    assert main(["cluster", str(run_copy), "--clusterer", "chinese-whispers", "--no-tracking"]) == 0
    added = run_files(run_copy) - before
    assert added <= {"suggestions.csv"} and faces > 10
    assert not (run_copy / "clustered_faces").exists()


def test_export_writes_one_folder_per_cluster_with_every_face_chip(run_copy):
    assert main(["export", str(run_copy), "--folders"]) == 0
    faces = face_table(run_copy)
    folder = run_copy / "clustered_faces"
    assert sorted(p.name for p in folder.iterdir()) == sorted(map(str, faces.cluster.unique()))
    chips = ChipStore(RunLayout.at(run_copy)).read(faces.face_id)
    exported = {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*.jpg")}
    assert len(exported) == len(faces)
    assert sorted(exported.values()) == sorted(chips.values())  # every face's chip, byte for byte
    assert all(str(path).startswith(f"{path.parent}/{path.parent}_") for path in exported)
    again = run_files(run_copy)
    assert main(["export", str(run_copy), "--folders"]) == 0  # idempotent
    assert run_files(run_copy) == again
    assert main(["cluster", str(run_copy), "--no-tracking"]) == 0
    assert not folder.exists()  # an export of an earlier clustering does not outlive it


def test_export_link_makes_links_to_the_photos(run_copy):
    assert main(["export", str(run_copy), "--folders", "--link"]) == 0
    faces = face_table(run_copy)
    entries = list((run_copy / "clustered_faces").rglob("*.*"))
    assert len(entries) == len(faces)
    photos = {os.path.realpath(p) for p in faces.image_path}
    for entry in entries:
        assert entry.is_symlink() or entry.stat().st_nlink > 1
        assert os.path.realpath(entry) in photos or entry.stat().st_ino in {os.stat(p).st_ino for p in photos}
    assert {p.parent.name for p in entries} == set(map(str, faces.cluster.unique()))


def test_export_errors_are_one_line(tmp_path, run_copy, capsys):
    assert main(["export", str(tmp_path / "nothing")]) == 2
    assert "--folders" in capsys.readouterr().err
    assert main(["export", str(tmp_path / "nothing"), "--folders"]) == 2
    err = capsys.readouterr().err
    assert "raypipe cluster" in err and len(err.strip().splitlines()) == 1
    shutil.rmtree(run_copy / "chips.parquet")
    assert main(["export", str(run_copy), "--folders"]) == 2
    assert "--link" in capsys.readouterr().err


def test_legacy_run_folder_with_chip_files_reads_and_exports(run_copy):
    chips = make_legacy(run_copy)
    store = ChipStore(RunLayout.at(run_copy))
    assert not store.sharded and store.read(list(chips)) == chips
    write_report(run_copy)
    shown = list((run_copy / "report_files" / "chips").glob("*.jpg"))
    assert shown and all(p.read_bytes() == chips[p.stem] for p in shown)
    assert main(["export", str(run_copy), "--folders"]) == 0
    exported = sorted(p.read_bytes() for p in (run_copy / "clustered_faces").rglob("*.jpg"))
    assert exported == sorted(chips.values())


def comic_shard(layout: RunLayout) -> dict[str, bytes]:
    """Write one comic shard (two pages, three panels, one face) as a worker does; its crops by id."""
    import cv2
    import numpy as np

    from raypipe.ids import panel_id
    from raypipe.pipeline.shards import write_shard
    from raypipe.pipeline.work import ShardWork

    def jpeg(value: int) -> bytes:
        return cv2.imencode(".jpg", np.full((20, 30, 3), value, np.uint8))[1].tobytes()

    work = ShardWork.start("s0", ["a.jpg", "b.jpg"], ["aaaa", "bbbb"])
    work.images.update(width=[100, 100], height=[80, 80])
    work.panels = {"image": [0, 0, 1], "panel_index": [0, 1, 0], "box": [[0, 0, 50, 80]] * 3,
                   "chip_jpeg": [jpeg(40), jpeg(120), jpeg(200)]}  # fmt: skip
    work.faces = {"image": [0], "face_index": [0], "panel_index": [1], "box": [[1, 2, 3, 4]], "det_score": [0.9],
                  "landmarks": [np.zeros(10, np.float32)], "embedding": np.ones((1, 4), np.float32),
                  "face_px": [2.0], "sharpness": [1.0], "yaw": [0.0], "chip_jpeg": [jpeg(90)]}  # fmt: skip
    write_shard(layout, work, {"detector": "d", "embedder": "e"}, save_chips=True, node="n")
    ids = [panel_id("aaaa", 0), panel_id("aaaa", 1), panel_id("bbbb", 0)]
    return dict(zip(ids, work.panels["chip_jpeg"]))


def test_panel_crops_live_in_the_shards_and_read_by_panel_id(tmp_path):
    layout = RunLayout.at(tmp_path / "run")
    crops = comic_shard(layout)
    tables = ("faces", "images", "errors", "chips", "panels", "panel_crops")
    assert run_files(layout.root) == {f"{t}.parquet/s0.parquet" for t in tables} | {"_shards/s0.done.json"}
    store = ChipStore(layout, panels=True)
    assert store.sharded and store.read(list(crops)) == crops
    assert [round(image[0, 0, 0] / 40) for image in store.images(list(crops))] == [1, 3, 5]  # decoded, in order
    with pytest.raises(FileNotFoundError, match="panel aaaa_007"):
        store.images(["aaaa_007"])


def test_legacy_run_folder_with_panel_files_reads(tmp_path):
    layout = RunLayout.at(tmp_path / "run")
    crops = comic_shard(layout)
    shutil.rmtree(layout.panel_crops)
    layout.panel_crop_files.mkdir()
    for panel, jpeg in crops.items():
        (layout.panel_crop_files / f"{panel}.jpg").write_bytes(jpeg)
    store = ChipStore(layout, panels=True)
    assert not store.sharded and store.read(list(crops)) == crops


def test_a_shard_written_again_keeps_its_first_files_and_marker(tmp_path):
    """Ray re-runs a task whose output was lost with its node: the shard it already wrote is
    neither rewritten nor claimed by the node that re-ran it."""
    import json

    layout = RunLayout.at(tmp_path / "run")
    comic_shard(layout)
    files = sorted(p for p in layout.root.rglob("*") if p.is_file())
    written = {p: p.stat().st_mtime_ns for p in files}
    marker = json.loads((layout.shards / "s0.done.json").read_text())

    from raypipe.pipeline.shards import write_shard
    from raypipe.pipeline.work import ShardWork

    again = ShardWork.start("s0", ["a.jpg"], ["aaaa"])
    again.images.update(width=[100], height=[80])
    returned = write_shard(layout, again, {"detector": "d", "embedder": "e"}, save_chips=True, node="other")
    assert returned == marker and returned["node"] == "n"
    assert {p: p.stat().st_mtime_ns for p in files} == written


def test_a_bad_detector_setting_stops_the_run_in_one_line_and_the_fixed_rerun_needs_no_overwrite(tmp_path, ray_session):
    """The setting is checked where the detector is built, on a Ray worker: its error still
    reaches the console as the one line of a user error (the command run as a user runs it),
    and the folder, which holds no finished shard, takes the corrected settings."""
    out = tmp_path / "run"
    command = ["run", str(SAMPLE_COMIC), "--out", str(out), "--domain", "comic", "--no-tracking",
               "--set", "extract.detector.verifier=none"]  # fmt: skip
    bad = subprocess.run([sys.executable, "-m", "raypipe.cli", *command, "--set", "extract.detector.score_threshold=2"],
                         check=False, cwd=REPO, env={k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"},
                         capture_output=True, text=True, timeout=300)  # fmt: skip
    assert bad.returncode == 2
    assert [line for line in bad.stderr.splitlines() if line.startswith("raypipe run:")] == [
        "raypipe run: error: drawn-faces score_threshold must be a number from 0 to 1, not 2"
    ]
    assert "Traceback" not in bad.stderr and "total backoff" not in bad.stderr
    assert main(command) == 0
    assert len(pd.read_parquet(out / "faces.parquet")) > 0
