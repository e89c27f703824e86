"""Every command is an MLflow run: read the store back and check params, metrics and artifacts."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from raypipe.cli import main
from tests.conftest import SAMPLE_PHOTOS


@pytest.fixture
def run_copy(sample_run, tmp_path):
    """A private copy of the clustered sample run (extracted with --no-tracking)."""
    return Path(
        shutil.copytree(
            sample_run, tmp_path / "run", ignore=shutil.ignore_patterns("chips.parquet")
        )
    )


def runs_in(uri: str) -> dict[str, list]:
    """Runs of the raypipe experiment at ``uri``, by their ``raypipe.command`` tag."""
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("raypipe")
    by_command: dict[str, list] = {}
    for run in client.search_runs([experiment.experiment_id]) if experiment else []:
        by_command.setdefault(run.data.tags["raypipe.command"], []).append(run)
    return by_command


def artifacts(uri: str, run) -> set[str]:
    return {a.path for a in MlflowClient(uri).list_artifacts(run.info.run_id)}


def store(tmp_path: Path) -> str:
    """The tracking store every test writes to (MLFLOW_TRACKING_URI, set in conftest)."""
    return f"sqlite:///{tmp_path / 'mlflow.db'}"


def test_cluster_and_eval_record_config_metrics_and_artifacts(run_copy, tmp_path):
    # the run was extracted with --no-tracking; that choice belongs to that command only
    assert main(["cluster", str(run_copy), "--set", "cluster.clusterer.threshold=0.12"]) == 0
    assert main(["eval", str(run_copy), "--labels", str(SAMPLE_PHOTOS)]) == 0
    runs = runs_in(store(tmp_path))
    (cluster,), (evaluation,) = runs["cluster"], runs["eval"]
    assert cluster.info.run_name == "cluster:run"
    assert cluster.data.params["cluster.clusterer.threshold"] == "0.12"
    assert cluster.data.params["quality.max_abs_yaw"] == "90.0"
    assert cluster.data.params["extract.detector.name"] == "dlib-hog"
    assert cluster.data.metrics["faces"] == 40
    assert {"clusters", "clustered", "unassigned", "set_aside", "cluster_seconds"} <= set(
        cluster.data.metrics
    )
    assert {"config.json", "summary.json", "clusters.csv"} <= artifacts(store(tmp_path), cluster)
    assert evaluation.data.metrics["nmi"] > 0.9
    assert {"bcubed_f", "pairwise_f", "accuracy", "images_scored"} <= set(evaluation.data.metrics)
    assert "metrics.json" in artifacts(store(tmp_path), evaluation)


def test_run_and_extract_record_counts_stage_timings_and_throughput(tmp_path, ray_session):
    photos = tmp_path / "photos"
    for person in ("obama", "tony_blair"):
        first = min((SAMPLE_PHOTOS / person).iterdir())
        (photos / person).mkdir(parents=True)
        shutil.copy(first, photos / person / first.name)
    out = tmp_path / "out"
    assert main(["run", str(photos), "--out", str(out), "--labels", str(photos)]) == 0
    assert main(["extract", str(photos), "--out", str(out)]) == 0  # resumes: every shard is done
    runs = runs_in(store(tmp_path))
    (run,), (extract,) = runs["run"], runs["extract"]
    metrics = run.data.metrics
    assert metrics["images"] == 2 and metrics["faces"] >= 2
    assert metrics["images_per_second"] > 0 and metrics["extract_seconds"] > 0
    assert {"stage_seconds.detect", "stage_seconds.embed", "clusters", "nmi", "bcubed_f"} <= set(
        metrics
    )
    assert {"config.json", "summary.json", "clusters.csv", "metrics.json"} <= artifacts(
        store(tmp_path), run
    )
    assert extract.data.metrics["images"] == 2
    assert extract.data.params["extract.embedder.name"] == run.data.params["extract.embedder.name"]


def test_no_tracking_and_tracking_uri_choose_the_store(run_copy, tmp_path):
    assert main(["cluster", str(run_copy), "--no-tracking"]) == 0
    assert runs_in(store(tmp_path)) == {}
    other = f"sqlite:///{tmp_path / 'other.db'}"
    assert main(["cluster", str(run_copy), "--tracking-uri", other]) == 0
    assert runs_in(store(tmp_path)) == {}
    assert len(runs_in(other)["cluster"]) == 1


def test_default_store_is_sqlite_in_the_working_directory(run_copy, tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI")
    workdir = tmp_path / "work"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    assert main(["cluster", str(run_copy)]) == 0
    assert len(runs_in(f"sqlite:///{workdir / 'mlflow.db'}")["cluster"]) == 1


def test_features_commands_are_mlflow_runs(sample_run, tmp_path):
    run = Path(shutil.copytree(sample_run, tmp_path / "run", ignore=shutil.ignore_patterns("clustered_faces")))
    assert main(["features", "extract", str(run), "--name", "color-hist"]) == 0
    assert main(["features", "sweep", str(run), "--clusterers", "kmeans:n_clusters=3"]) == 0
    assert main(["features", "extract", str(run), "--name", "hog", "--no-tracking"]) == 0
    runs = runs_in(store(tmp_path))
    (extract,), (sweep,) = runs["features extract"], runs["features sweep"]
    assert extract.info.run_name == "features extract:run"
    assert extract.data.params["name"] == "color-hist" and extract.data.metrics["faces"] == 40
    assert artifacts(store(tmp_path), extract) == {"feature_config.json"}
    assert sweep.data.metrics["results"] == 1 and 0 < sweep.data.metrics["best_bcubed_f"] <= 1
    assert artifacts(store(tmp_path), sweep) == {"results.csv"}
