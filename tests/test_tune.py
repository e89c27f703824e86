"""``raypipe tune``: the space format, a real sweep on the bundled sample, its results and MLflow runs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from mlflow.tracking import MlflowClient

from raypipe.cli import main
from raypipe.config import ConfigError
from raypipe.features.store import FeatureStore, FeatureTable
from raypipe.sweep import SearchSpace
from raypipe.sweep.scoring import coverage_silhouette
from tests.conftest import REPO, SAMPLE_PHOTOS

# Three thresholds around the dlib "same person" distance, and a family whose setting is invalid:
# the sweep must record that trial's error and carry on.
SMALL_GRID = {
    "clusterer": {
        "agglomerative": {"threshold": {"choice": [0.06, 0.1, 0.14]}},
        "hdbscan": {"min_cluster_size": {"choice": [0]}},
    }
}


@pytest.fixture
def run_copy(sample_run, tmp_path):
    """A private copy of the clustered sample run (the default clusterer's metrics.json inside)."""
    return Path(
        shutil.copytree(
            sample_run, tmp_path / "run", ignore=shutil.ignore_patterns("chips.parquet")
        )
    )


def write_space(tmp_path: Path, space: dict) -> Path:
    path = tmp_path / "space.yaml"
    path.write_text(yaml.safe_dump(space), encoding="utf-8")
    return path


def mlflow_runs(tmp_path: Path) -> tuple[MlflowClient, list]:
    """The client of the test's tracking store (see conftest) and every run of the raypipe experiment."""
    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("raypipe")
    return client, client.search_runs([experiment.experiment_id]) if experiment else []


def test_shipped_spaces_parse_to_tune_domains():
    photos = SearchSpace.from_yaml(REPO / "tune" / "photos.yaml")
    space = photos.tune_space("random")
    assert (
        "clusterer.agglomerative.threshold" in space and "reducer" not in space
    )  # one reducer family: fixed
    research = SearchSpace.from_yaml(REPO / "tune" / "research.yaml")
    assert {"feature", "reducer", "reducer.pca.n_components", "clusterer"} <= set(
        research.tune_space("optuna")
    )
    assert None not in research.feature_names()


def test_candidate_takes_the_settings_of_the_sampled_family_only():
    space = SearchSpace.from_dict({
        "clusterer": {"agglomerative": {"linkage": "average", "threshold": {"uniform": [0.1, 0.5]}},
                      "hdbscan": {"min_cluster_size": {"int": [2, 5]}}},
        "reducer": {"none": {}, "pca": {"n_components": {"choice": [8, 16]}}},
        "feature": {"choice": [None, "hog"]},
    })  # fmt: skip
    sample = {"clusterer": "agglomerative", "clusterer.agglomerative.threshold": 0.3,
              "clusterer.hdbscan.min_cluster_size": 4, "reducer": "pca", "reducer.pca.n_components": 8,
              "feature": "hog"}  # fmt: skip
    candidate = space.candidate(sample)
    assert candidate.clusterer == {"name": "agglomerative", "linkage": "average", "threshold": 0.3}
    assert candidate.reducer == {"name": "pca", "n_components": 8}
    assert candidate.feature == "hog"
    assert space.candidate({**sample, "reducer": "none"}).reducer is None


def test_grid_enumerates_each_family_and_rejects_continuous_domains():
    points = SearchSpace.from_dict(SMALL_GRID).grid_points()
    assert len(points) == 4  # 3 thresholds + 1 hdbscan point, not 3 x 1 cross terms
    assert {p["clusterer"] for p in points} == {"agglomerative", "hdbscan"}
    continuous = SearchSpace.from_dict(
        {"clusterer": {"dbscan": {"threshold": {"uniform": [0.1, 0.2]}}}}
    )
    with pytest.raises(ConfigError, match="grid search needs discrete values"):
        continuous.grid_points()
    with pytest.raises(ConfigError, match="needs \\[low, high\\]"):
        SearchSpace.from_dict({"clusterer": {"dbscan": {"threshold": {"uniform": [0.1]}}}})


def test_unknown_metric_is_a_usage_error(run_copy, tmp_path, capsys):
    space = write_space(tmp_path, SMALL_GRID)
    assert (
        main(["tune", str(run_copy), "--space", str(space), "--metric", "nmi", "--no-tracking"])
        == 2
    )
    assert "label metrics need --labels" in capsys.readouterr().err


def test_labelled_grid_sweep_matches_or_beats_the_default_and_is_recorded(run_copy, tmp_path):
    default = json.loads((run_copy / "metrics.json").read_text())
    space = write_space(tmp_path, SMALL_GRID)
    code = main(
        [
            "tune",
            str(run_copy),
            "--space",
            str(space),
            "--search",
            "grid",
            "--labels",
            str(SAMPLE_PHOTOS),
        ]
    )
    assert code == 0

    results = pd.read_csv(run_copy / "tune" / "results.csv")
    assert len(results) == 4
    failed = results[results["status"] == "error"]
    assert list(failed["clusterer.name"]) == ["hdbscan"]
    assert failed["error"].str.contains("positive").all()
    assert results["bcubed_f"].iloc[0] == results["bcubed_f"].max()  # best first
    best_value = results["bcubed_f"].iloc[0]
    assert best_value >= default["bcubed_f"]

    # best_config.yaml applied by `raypipe cluster` reproduces the best trial exactly
    best_config = run_copy / "tune" / "best_config.yaml"
    assert (
        yaml.safe_load(best_config.read_text())["cluster"]["clusterer"]["name"] == "agglomerative"
    )
    assert main(["cluster", str(run_copy), "--config", str(best_config), "--no-tracking"]) == 0
    assert main(["eval", str(run_copy), "--labels", str(SAMPLE_PHOTOS), "--no-tracking"]) == 0
    applied = json.loads((run_copy / "metrics.json").read_text())
    assert applied["bcubed_f"] == pytest.approx(best_value)
    assert applied["nmi"] >= default["nmi"]

    client, runs = mlflow_runs(tmp_path)
    parent = next(r for r in runs if r.data.tags.get("raypipe.command") == "tune")
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    assert len(children) == 4
    assert parent.data.params["tune.search"] == "grid"
    assert parent.data.metrics["trials_failed"] == 1
    assert parent.data.metrics["best.bcubed_f"] == pytest.approx(best_value)
    artifacts = {a.path for a in client.list_artifacts(parent.info.run_id)}
    assert {"results.csv", "best_config.yaml", "space.yaml", "config.json"} <= artifacts
    failed_child = next(r for r in children if r.data.tags["raypipe.trial_status"] == "error")
    assert "positive" in failed_child.data.tags["raypipe.error"]
    ok_child = next(r for r in children if r.data.params.get("clusterer.threshold") == "0.1")
    assert ok_child.data.params["clusterer.name"] == "agglomerative"
    assert {"bcubed_f", "nmi", "silhouette", "clusters", "seconds"} <= set(ok_child.data.metrics)


def test_unlabelled_optuna_sweep_scores_silhouette(run_copy, tmp_path):
    faces = pd.read_parquet(run_copy / "faces.parquet")
    clusters = pd.read_csv(run_copy / "clusters.csv")
    default_silhouette = coverage_silhouette(
        np.stack(faces["embedding"].to_numpy()), clusters["cluster"].to_numpy()
    )
    space = write_space(
        tmp_path, {"clusterer": {"agglomerative": {"threshold": {"loguniform": [0.04, 0.3]}}}}
    )
    code = main(["tune", str(run_copy), "--space", str(space), "--search", "optuna", "--num-samples", "6",
                 "--max-concurrent", "2", "--no-tracking"])  # fmt: skip
    assert code == 0
    results = pd.read_csv(run_copy / "tune" / "results.csv")
    assert len(results) == 6 and (results["status"] == "ok").all()
    assert "nmi" not in results  # no labels, no label metrics
    assert results["silhouette"].iloc[0] == results["silhouette"].max()
    assert results["silhouette"].iloc[0] >= max(default_silhouette, 0.3)  # matches or beats the default


def test_sweep_picks_stored_features(run_copy, tmp_path):
    """A feature under RUN/features/ is read once and chosen per trial like any setting."""
    faces = pd.read_parquet(run_copy / "faces.parquet")
    noise = np.random.default_rng(0).normal(size=(len(faces), 16)).astype(np.float32)
    FeatureStore.at(run_copy).save("noise", FeatureTable(faces["face_id"], noise, {"name": "noise"}))
    space = write_space(
        tmp_path,
        {
            "feature": {"choice": [None, "noise"]},
            "clusterer": {"agglomerative": {"threshold": {"choice": [0.1]}}},
        },
    )
    code = main(["tune", str(run_copy), "--space", str(space), "--search", "grid", "--labels", str(SAMPLE_PHOTOS),
                 "--no-tracking"])  # fmt: skip
    assert code == 0
    results = pd.read_csv(run_copy / "tune" / "results.csv")
    by_feature = results.set_index(results["feature"].fillna("embedding"))["bcubed_f"]
    assert by_feature["embedding"] > by_feature["noise"] + 0.3
    assert (
        yaml.safe_load((run_copy / "tune" / "best_config.yaml").read_text())["cluster"]["feature"]
        is None
    )
