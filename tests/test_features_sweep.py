"""``raypipe features sweep``: a grid of Ray Tune trials, each a nested MLflow run, stored in the result store."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from raypipe.cli import main
from raypipe.features.store import FeatureStore, FeatureTable
from raypipe.layout import RunLayout


def labelled_run(root) -> None:
    """30 faces of 3 people with two stored features: ``blobs`` (one tight blob per person), ``noise``."""
    rng = np.random.default_rng(0)
    labels = np.repeat(["ann", "bob", "cyd"], 10)
    faces = pd.DataFrame({"face_id": [f"f{i:02d}" for i in range(30)],
                          "image_id": [f"i{i:02d}" for i in range(30)], "label": labels})  # fmt: skip
    layout = RunLayout.at(root)
    layout.root.mkdir(parents=True)
    faces.to_parquet(layout.faces, index=False)
    centres = rng.normal(size=(3, 8)) * 5
    blobs = centres[np.repeat(np.arange(3), 10)] + rng.normal(scale=0.1, size=(30, 8))
    store = FeatureStore(layout)
    store.save("blobs", FeatureTable(faces["face_id"], blobs, {"name": "blobs"}))
    store.save("noise", FeatureTable(faces["face_id"], rng.normal(size=(30, 8)), {"name": "noise"}))


@pytest.mark.slow
def test_features_sweep_runs_tune_trials_recorded_in_mlflow_and_ranked_by_bcubed(tmp_path, ray_session):
    run = tmp_path / "run"
    labelled_run(run)
    code = main(["features", "sweep", str(run), "--reducers", "none", "pca:n_components=4",
                 "--clusterers", "kmeans:n_clusters=true-k,n_init=3"])  # fmt: skip
    assert code == 0

    results = pd.read_csv(run / "results" / "results.csv")
    assert len(results) == 2 * 2  # features x reducers
    assert results["bcubed_f"].is_monotonic_decreasing
    assert (results["clusterer.n_clusters"] == 3).all()  # true-k resolved from the labels
    best = results.groupby("feature")["bcubed_f"].max()
    assert best["blobs"] == 1.0 and best["noise"] < 0.8
    stored = pd.read_csv(run / results.iloc[0]["path"] / "clusters.csv")
    assert len(stored) == 30 and stored["cluster"].nunique() == 3

    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name("raypipe").experiment_id])
    parent = next(r for r in runs if r.data.tags.get("raypipe.command") == "features sweep")
    trials = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    assert len(trials) == 4
    assert all(t.data.tags["raypipe.command"] == "tune-trial" for t in trials)
    assert {t.data.params["feature"] for t in trials} == {"blobs", "noise"}
    assert max(t.data.metrics["bcubed_f"] for t in trials) == 1.0
    assert parent.data.metrics["best_bcubed_f"] == 1.0 and parent.data.metrics["trials_failed"] == 0
