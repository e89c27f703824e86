"""Run a sweep with Ray Tune and write ``RUN/tune/results.csv`` and ``RUN/tune/best_config.yaml``."""

from __future__ import annotations

import logging
import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from raypipe import storage
from raypipe.cluster import CLUSTERERS
from raypipe.cluster.step import cluster_inputs, embedding_model, load_faces, quality_reasons
from raypipe.config import Config, ConfigError
from raypipe.evaluation.labels import label_targets
from raypipe.evaluation.metrics import score_clustering
from raypipe.layout import RunLayout, atomic_write_text
from raypipe.sweep.grid import CandidateGrid
from raypipe.sweep.settings import (
    LABELLED_DEFAULT_METRIC,
    SEARCHES,
    UNLABELLED_DEFAULT_METRIC,
    SweepSettings,
)
from raypipe.sweep.space import Candidate, SearchSpace
from raypipe.sweep.trial import UNSUPERVISED_METRICS, SweepData, resolved_clusterer, trainable
from raypipe.tracking import flatten

log = logging.getLogger(__name__)


@dataclass
class TrialRecord:
    """One trial's configuration and outcome, as results.csv and MLflow record it."""

    trial: str
    candidate: Candidate
    metrics: dict[str, float]
    seconds: float
    status: str  # "ok" or "error"
    error: str = ""
    labels: np.ndarray | None = None  # each face's cluster, when the sweep asked for them

    def columns(self) -> dict[str, Any]:
        """Flat config columns: feature, reducer.*, clusterer.*."""
        return flatten(
            {
                "feature": self.candidate.feature,
                "reducer": self.candidate.reducer or {"name": "none"},
                "clusterer": self.candidate.clusterer,
            }
        )


@dataclass
class SweepResult:
    metric: str
    mode: str
    trials: list[TrialRecord]
    best: TrialRecord | None
    best_config: dict[str, Any] | None
    files: list[Path] = field(default_factory=list)


def known_metrics(labelled: bool) -> list[str]:
    """Names a sweep can optimise: the unsupervised ones, plus the label metrics with labels."""
    names = list(UNSUPERVISED_METRICS)
    if labelled:
        names += list(score_clustering(["a"], [0])) + ["images_scored", "images_missed"]
    return names


def sweep_data(
    layout: RunLayout, config: Config, space: SearchSpace, labels: str | None
) -> SweepData:
    """Read the run once: each feature the space may pick (faces fit to cluster), the labels."""
    faces = load_faces(layout)
    fit = np.array([not reason for reason in quality_reasons(faces, config)], dtype=bool)
    inputs = {name: cluster_inputs(layout, faces, fit, name) for name in space.feature_names()}
    reference = inputs[None] if None in inputs else cluster_inputs(layout, faces, fit, None)
    targets = None
    if labels is not None:
        targets = label_targets(storage.read_table(layout.images).to_pandas(), faces, labels)
        if not targets.truth:
            raise FileNotFoundError(
                f"no image of {layout.root} lies under the labels folder {labels}"
            )
    return SweepData(
        inputs, reference, len(faces), embedding_model(faces), config.cluster.cannot_link, targets
    )


def search_algorithm(settings: SweepSettings, metric: str):
    """Tune's searcher for ``settings.search`` (grid and random share the variant generator)."""
    if settings.search == "optuna":
        from ray.tune.search.optuna import OptunaSearch

        return OptunaSearch(metric=metric, mode=settings.mode, seed=settings.seed)
    from ray.tune.search.basic_variant import BasicVariantGenerator

    return BasicVariantGenerator(random_state=settings.seed)


def max_concurrent(settings: SweepSettings) -> int:
    """``settings.max_concurrent``, else as many trials as the cluster's CPUs hold."""
    if settings.max_concurrent:
        return settings.max_concurrent
    import ray

    cpus = ray.cluster_resources().get("CPU", 1.0)
    return max(1, int(cpus // settings.cpus_per_trial))


def run_trials(
    space: SearchSpace | CandidateGrid, data: SweepData, settings: SweepSettings, metric: str
) -> list[TrialRecord]:
    """Run the sweep on the current Ray instance; failed trials are kept with their error."""
    from ray import tune

    from raypipe.console import route_library_logging

    route_library_logging()  # ray.tune's loggers: to the run's log file
    # Tune's default console output prints its own header and paths even at verbose=0; its
    # other engine prints nothing at 0 (raypipe reports the sweep itself). A user's value wins.
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")

    trainable_with_data = tune.with_resources(
        tune.with_parameters(trainable, space=space, data=data), {"cpu": settings.cpus_per_trial}
    )
    with tempfile.TemporaryDirectory(prefix="raypipe-tune-") as storage:
        tuner = tune.Tuner(
            trainable_with_data,
            param_space=space.tune_space(settings.search),
            tune_config=tune.TuneConfig(
                metric=metric, mode=settings.mode, search_alg=search_algorithm(settings, metric),
                num_samples=1 if settings.search == "grid" else settings.num_samples,
                max_concurrent_trials=max_concurrent(settings), time_budget_s=settings.time_budget_s,
                reuse_actors=True,
            ),
            run_config=tune.RunConfig(name="sweep", storage_path=storage, verbose=0,
                                      failure_config=tune.FailureConfig(max_failures=0)),
        )  # fmt: skip
        return [trial_record(space, result) for result in tuner.fit()]


def trial_record(space: SearchSpace | CandidateGrid, result) -> TrialRecord:
    """A Tune result as a :class:`TrialRecord` (the error's last line when the trial failed)."""
    reported = result.metrics or {}
    metrics = {k: float(v) for k, v in reported.items() if k in known_metrics(labelled=True)}
    trial = str(reported.get("trial_id") or Path(result.path).name)
    seconds = float(reported.get("time_total_s", math.nan))
    candidate = space.candidate(result.config)
    if result.error is None:
        labels = np.asarray(reported["labels"]) if "labels" in reported else None
        return TrialRecord(trial, candidate, metrics, seconds, "ok", labels=labels)
    lines = [line.strip() for line in str(result.error).splitlines() if line.strip()]
    error = lines[-1] if lines else type(result.error).__name__
    log.warning("trial %s failed: %s", trial, error)
    return TrialRecord(trial, candidate, metrics, seconds, "error", error)


def best_trial(trials: list[TrialRecord], metric: str, mode: str) -> TrialRecord | None:
    scored = [
        t for t in trials if t.status == "ok" and math.isfinite(t.metrics.get(metric, math.nan))
    ]
    if not scored:
        return None
    pick = max if mode == "max" else min
    return pick(scored, key=lambda t: t.metrics[metric])


def full_spec(registry, spec: dict[str, Any]) -> dict[str, Any]:
    """``spec`` with every setting of the component spelled out, so that merging changes nothing."""
    component = registry.build(spec)
    return {"name": spec["name"], **component.get_params(deep=False)}


def best_config(best: TrialRecord, data: SweepData) -> dict[str, Any]:
    """The config sections that reproduce ``best`` with ``raypipe cluster --config``."""
    reducer = best.candidate.reducer
    if reducer:
        from raypipe.reduce import REDUCERS

        reducer = full_spec(REDUCERS, reducer)
    clusterer = full_spec(CLUSTERERS, resolved_clusterer(best.candidate, data))
    return {
        "cluster": {"clusterer": clusterer, "reducer": reducer, "feature": best.candidate.feature}
    }


def results_table(trials: list[TrialRecord], metric: str, mode: str) -> pd.DataFrame:
    """One row per trial, best first: trial, status, the metric, config columns, metrics, seconds, error."""
    configs = pd.DataFrame([t.columns() for t in trials])
    metrics = pd.DataFrame([t.metrics for t in trials])
    if metric not in metrics:
        metrics[metric] = np.nan
    table = pd.concat([
        pd.DataFrame({"trial": [t.trial for t in trials], "status": [t.status for t in trials]}),
        metrics[[metric]], configs, metrics.drop(columns=[metric]),
        pd.DataFrame({"seconds": [t.seconds for t in trials], "error": [t.error for t in trials]}),
    ], axis=1)  # fmt: skip
    return table.sort_values(metric, ascending=mode == "min", na_position="last", kind="stable")


def write_results(layout: RunLayout, result: SweepResult, space_path: Path) -> list[Path]:
    """``tune/results.csv``, ``tune/best_config.yaml`` (when a trial succeeded) and the space used."""
    table = results_table(result.trials, result.metric, result.mode)
    csv = layout.tune / "results.csv"
    atomic_write_text(csv, table.to_csv(index=False))
    space_copy = layout.tune / "space.yaml"
    atomic_write_text(space_copy, space_path.read_text(encoding="utf-8"))
    files = [csv, space_copy]
    if result.best_config is not None:
        best = layout.tune / "best_config.yaml"
        header = (
            f"# best of {len(result.trials)} trials ({space_path.name}): "
            f"{result.metric} = {result.best.metrics[result.metric]:.4f}, trial {result.best.trial}\n"
            f"# apply: raypipe cluster {layout.root} --config {best}\n"
        )
        atomic_write_text(best, header + yaml.safe_dump(result.best_config, sort_keys=False))
        files.append(best)
    return files


def run_sweep(
    run: str | Path,
    space_path: str | Path,
    config: Config,
    settings: SweepSettings,
    labels: str | None = None,
) -> SweepResult:
    """Sweep ``space_path`` over the faces of ``run``; write the results under ``RUN/tune/``."""
    if settings.search not in SEARCHES:
        raise ConfigError(
            f"unknown search {settings.search!r}; choose one of {', '.join(SEARCHES)}"
        )
    metric = settings.metric or (LABELLED_DEFAULT_METRIC if labels else UNLABELLED_DEFAULT_METRIC)
    if metric not in known_metrics(labels is not None):
        hint = " (label metrics need --labels)" if labels is None else ""
        raise ConfigError(
            f"unknown metric {metric!r}{hint}; choose one of {', '.join(known_metrics(labels is not None))}"
        )
    layout = RunLayout.at(run)
    space = SearchSpace.from_yaml(space_path)
    data = sweep_data(layout, config, space, labels)
    trials = run_trials(space, data, settings, metric)
    best = best_trial(trials, metric, settings.mode)
    if best is None:
        log.error(
            "no trial of the sweep succeeded; see the error column of %s",
            layout.tune / "results.csv",
        )
    result = SweepResult(
        metric, settings.mode, trials, best, best_config(best, data) if best else None
    )
    result.files = write_results(layout, result, Path(space_path))
    return result
