"""`raypipe run` end to end on real photos: the output contract, bad input, reruns."""

import csv
import json

import pandas as pd
import pytest

from raypipe.chips import ChipStore
from raypipe.cli import main
from raypipe.layout import CLUSTERS_CSV_COLUMNS, RunLayout
from tests.badinputs import make_bad_inputs
from tests.conftest import SAMPLE_PHOTOS

FACE_PHOTO = SAMPLE_PHOTOS / "obama" / "face_recognition_knn_train_obama.jpg"


def test_sample_run_writes_the_output_contract(sample_run):
    faces = pd.read_parquet(sample_run / "faces.parquet")
    for column in ["face_id", "image_id", "image_path", "x1", "y1", "x2", "y2", "det_score",
                   "landmarks", "embedding", "detector", "embedder", "face_px", "sharpness", "yaw"]:
        assert column in faces.columns
    assert faces["face_id"].is_unique
    assert len(faces["embedding"].iloc[0]) == 128 and len(faces["landmarks"].iloc[0]) == 10
    with open(sample_run / "clusters.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == CLUSTERS_CSV_COLUMNS and len(rows) - 1 == len(faces)
    chips = ChipStore(RunLayout.at(sample_run)).read(faces["face_id"])
    assert sorted(chips) == sorted(faces["face_id"]) and all(len(jpeg) > 0 for jpeg in chips.values())
    assert not (sample_run / "chips").exists() and not (sample_run / "clustered_faces").exists()
    summary = json.loads((sample_run / "summary.json").read_text())
    assert summary["extract"]["images"] == 39 and summary["extract"]["errors"] == 0
    assert set(summary["extract"]["stage_seconds"]) == {"decode", "detect", "align", "embed"}
    assert json.loads((sample_run / "config.json").read_text())["extract"]["embedder"]["name"] == "dlib"


def test_sample_run_groups_people(sample_run):
    metrics = json.loads((sample_run / "metrics.json").read_text())
    assert metrics["images_scored"] == 39
    assert metrics["nmi"] >= 0.95 and metrics["bcubed_f"] >= 0.9, metrics


def test_bad_inputs_are_recorded_and_the_run_goes_on(tmp_path, ray_session):
    inputs = tmp_path / "inputs"
    expected = make_bad_inputs(inputs, FACE_PHOTO)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    out = tmp_path / "run"
    assert main(["run", str(inputs), "--out", str(out), "--no-tracking"]) == 0
    after = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if not p.is_relative_to(out))
    assert after == before  # nothing written outside the run folder
    images = pd.read_parquet(out / "images.parquet").set_index("image_path")
    errors = pd.read_parquet(out / "errors.parquet").set_index("image_path")
    for name, outcome in expected.items():
        path = str(inputs / name)
        if outcome == "skip":
            assert errors.loc[path, "stage"] == "input"
        elif outcome == "error":
            assert images.loc[path, "status"] == "error" and errors.loc[path, "reason"]
        else:
            assert images.loc[path, "status"] == "faces", name
    summary = json.loads((out / "summary.json").read_text())
    assert summary["extract"]["errors"] == sum(o != "face" for o in expected.values())
    assert main(["export", str(out), "--folders"]) == 0
    names = [p.name for p in (out / "clustered_faces").rglob("*.jpg")]
    assert len(names) == len(set(names)) == summary["extract"]["faces"]  # equal names kept apart


def test_rerun_is_idempotent_and_skips_finished_work(sample_run, tmp_path, capsys):
    faces_before = pd.read_parquet(sample_run / "faces.parquet")
    files_before = sorted(p.relative_to(sample_run) for p in sample_run.rglob("*.parquet"))
    assert main(["run", str(SAMPLE_PHOTOS), "--out", str(sample_run), "--no-tracking"]) == 0
    summary = json.loads((sample_run / "summary.json").read_text())
    assert summary["extract"]["new_shards"] == 0 and summary["extract"]["skipped_shards"] >= 1
    pd.testing.assert_frame_equal(pd.read_parquet(sample_run / "faces.parquet"), faces_before)
    assert sorted(p.relative_to(sample_run) for p in sample_run.rglob("*.parquet")) == files_before


def test_recluster_without_reextracting(sample_run, tmp_path):
    run = tmp_path / "copy"
    import shutil

    shutil.copytree(sample_run, run)
    shards_before = sorted(p.name for p in (run / "_shards").iterdir())
    faces_before = pd.read_parquet(run / "faces.parquet")
    assert main(["cluster", str(run), "--clusterer", "chinese-whispers", "--no-tracking"]) == 0
    summary = json.loads((run / "summary.json").read_text())
    assert summary["cluster"]["clusterer"]["name"] == "chinese-whispers"
    assert sorted(p.name for p in (run / "_shards").iterdir()) == shards_before
    pd.testing.assert_frame_equal(pd.read_parquet(run / "faces.parquet"), faces_before)
    assert main(["eval", str(run), "--labels", str(SAMPLE_PHOTOS), "--no-tracking"]) == 0
    metrics = json.loads((run / "metrics.json").read_text())  # scores the new clusters.csv
    assert metrics["bcubed_f"] >= 0.9, metrics


def test_a_recluster_scores_its_new_clusters_against_the_labels_of_the_last_evaluation(sample_run, tmp_path):
    import shutil

    run = tmp_path / "copy"
    shutil.copytree(sample_run, run)
    assert main(["eval", str(run), "--labels", str(SAMPLE_PHOTOS), "--no-tracking"]) == 0
    assert json.loads((run / "metrics.json").read_text())["n_clusters"] > 2
    recluster = ["cluster", str(run), "--set", "cluster.clusterer={name: kmeans, n_clusters: 2}", "--no-tracking"]
    assert main(recluster) == 0
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["n_clusters"] == 2 and json.loads((run / "summary.json").read_text())["metrics"] == metrics

    summary = json.loads((run / "summary.json").read_text())
    summary["evaluation"]["labels"] = str(tmp_path / "labels-since-removed")
    (run / "summary.json").write_text(json.dumps(summary))
    assert main(recluster) == 0
    summary = json.loads((run / "summary.json").read_text())
    assert not (run / "metrics.json").exists() and "metrics" not in summary and "evaluation" not in summary


def test_nothing_processable_exits_non_zero(tmp_path, ray_session):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "broken.jpg").write_bytes(b"not a jpeg")
    assert main(["run", str(tmp_path / "in"), "--out", str(tmp_path / "run"), "--no-tracking"]) == 1


def test_usage_errors_are_clear(tmp_path, capsys):
    assert main(["run", str(tmp_path / "missing"), "--out", str(tmp_path / "run"), "--no-tracking"]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["cluster", str(tmp_path / "nothing-here"), "--no-tracking"]) == 2
    with pytest.raises(SystemExit):
        main(["run"])
