"""``raypipe features sweep``: every stored feature x reducer x clusterer, one Ray Tune trial each.

The trials run on the Ray cluster through the one sweep engine (:mod:`raypipe.sweep.tuner`);
the driver stores each clustering in the result store (:mod:`raypipe.research.store`) and writes
``RUN/results/results.csv``, ranked by BCubed F.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from raypipe.cluster.step import cluster_inputs
from raypipe.errors import UsageError
from raypipe.evaluation.labels import LabelTargets, face_labels
from raypipe.features.store import FeatureStore
from raypipe.layout import RunLayout
from raypipe.registry import split_spec
from raypipe.research.store import RANK_METRIC, ResultStore
from raypipe.sweep.grid import CandidateGrid
from raypipe.sweep.settings import UNLABELLED_DEFAULT_METRIC, SweepSettings
from raypipe.sweep.space import NO_REDUCER, Candidate
from raypipe.sweep.trial import SweepData
from raypipe.sweep.tuner import TrialRecord, run_trials

log = logging.getLogger(__name__)

#: A clusterer setting with this value is replaced by the number of true labels (k-means "true k").
TRUE_K = "true-k"

Spec = str | Mapping[str, Any]


def _as_dict(spec: Spec) -> dict[str, Any]:
    name, params = split_spec(spec)
    return {"name": name, **params}


def resolve_true_k(clusterer: dict[str, Any], n_labels: int | None) -> dict[str, Any]:
    """``clusterer`` with every ``"true-k"`` value replaced by ``n_labels``."""
    if TRUE_K in clusterer.values() and n_labels is None:
        raise ValueError(f"clusterer {clusterer} asks for the true k, but the faces have no labels")
    return {key: n_labels if value == TRUE_K else value for key, value in clusterer.items()}


def label_targets_of(faces: pd.DataFrame) -> LabelTargets | None:
    """Each labelled face (``label`` column, else the parent folder) as its own target."""
    truth = face_labels(faces)
    known = np.flatnonzero([label is not None for label in truth])
    return LabelTargets(list(truth[known]), known) if len(known) else None


def sweep_features(
    run: str,
    features: Sequence[str],
    reducers: Sequence[Spec] = ("none",),
    clusterers: Sequence[Spec] = ({"name": "kmeans", "n_clusters": TRUE_K},),
    use_labels: bool = True,
    cpus_per_trial: float = 0.5,
) -> tuple[pd.DataFrame, list[TrialRecord]]:
    """Cluster every stored feature after every reducer with every clusterer, as Tune trials.

    Reducers are fitted on the feature per trial. With ``use_labels``, each clustering is scored
    against the faces' labels. Returns the results table (best first) and the trials.
    """
    if not features:
        raise UsageError(f"no stored feature to sweep in {run}: run `raypipe features extract` first")
    layout = RunLayout.at(run)
    faces = layout.read_table("faces").to_pandas()
    everyone = np.ones(len(faces), dtype=bool)
    targets = label_targets_of(faces) if use_labels else None
    data = SweepData(
        {name: cluster_inputs(layout, faces, everyone, name) for name in features},
        reference=None, n_faces=len(faces), model=None, cannot_link=False, targets=targets,
        report_labels=True,
    )  # fmt: skip
    n_labels = len(set(targets.truth)) if targets else None
    grid = CandidateGrid(
        Candidate(resolve_true_k(clusterer, n_labels), None if reducer["name"] == NO_REDUCER else reducer, feature)
        for feature in features for reducer in map(_as_dict, reducers) for clusterer in map(_as_dict, clusterers)
    )  # fmt: skip
    metric = RANK_METRIC if targets else UNLABELLED_DEFAULT_METRIC
    settings = SweepSettings(metric=metric, search="grid", cpus_per_trial=cpus_per_trial)
    trials = run_trials(grid, data, settings, metric)
    store, feature_configs = ResultStore(layout), {f: FeatureStore(layout).config(f) for f in features}
    for trial in trials:
        candidate = trial.candidate
        if trial.status != "ok":
            continue  # run_trials logged its error; the MLflow trial records it
        store.save_clustering(
            candidate.feature, feature_configs[candidate.feature],
            candidate.reducer or {"name": NO_REDUCER}, candidate.clusterer,
            faces["face_id"].to_numpy(), trial.labels, trial.metrics,
        )  # fmt: skip
        log.info("%s | %s | %s: %s %.3f", candidate.feature, (candidate.reducer or {}).get("name", NO_REDUCER),
                 candidate.clusterer["name"], metric, trial.metrics.get(metric, float("nan")))  # fmt: skip
    return store.aggregate(), trials
