"""The steps the sub-commands chain, each recording its result in summary.json and MLflow."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from raypipe.config import Config, TrackingConfig
from raypipe.console import run_log
from raypipe.layout import RunLayout
from raypipe.summary import drop_from_summary, format_summary, update_summary
from raypipe.tracking import Tracker, tracked_run

if TYPE_CHECKING:
    from raypipe.aggregate.settings import AggregateSettings
    from raypipe.report import ReportOptions
    from raypipe.sweep.settings import SweepSettings
    from raypipe.sweep.tuner import TrialRecord

log = logging.getLogger(__name__)


@dataclass
class Session:
    """What the steps of one command share."""

    layout: RunLayout
    config: Config
    tracker: Tracker
    summary: dict = field(default_factory=dict)
    exit_code: int = 0


@contextlib.contextmanager
def finish(run: str | Path, config: Config, command: str) -> Iterator[Session]:
    """Open the run folder and an MLflow run; afterwards print the summary, log the artifacts."""
    layout = RunLayout.at(run)
    layout.root.mkdir(parents=True, exist_ok=True)
    with run_log(layout.root), tracked_run(config.tracking, f"{command}:{layout.root.name}",
                                           tags={"raypipe.command": command}) as tracker:  # fmt: skip
        session = Session(layout, config, tracker)
        yield session
        from raypipe.layout import atomic_write_text

        atomic_write_text(layout.config, session.config.to_json())
        tracker.log_params(session.config.to_dict())
        tracker.log_artifacts(layout.config, layout.summary, layout.metrics, layout.clusters, layout.report)
    text = format_summary(session.summary)
    if text:
        print(text)


def extract_step(session: Session, inputs: list[str], overwrite: bool) -> dict:
    from raypipe.pipeline.extract import extract

    result = extract(inputs, str(session.layout.root), session.config, overwrite=overwrite)
    session.tracker.log_metrics(
        {
            "images": result.images, "faces": result.faces, "no_face": result.no_face,
            "errors": result.errors, "extract_seconds": result.seconds,
            "images_per_second": result.images / result.seconds if result.seconds else 0.0,
        }
    )
    session.tracker.log_metrics(result.stage_seconds, prefix="stage_seconds.")
    if result.images and result.errors == result.images:
        log.error("no input could be processed: every image is in %s", session.layout.errors)
        session.exit_code = 1
    return update_summary(session.layout, "extract", result)


def cluster_step(session: Session, into: str | None = None, labels: str | None = None) -> dict:
    """Cluster the run, then score the clusters against ``labels`` (default: the labels of the
    run's last evaluation, if it had one)."""
    from raypipe.cluster.step import cluster_run

    result = cluster_run(str(session.layout.root), session.config, into=into)
    session.tracker.log_metrics(
        {
            "faces": result.faces, "clustered": result.clustered, "clusters": result.clusters,
            "unassigned": result.unassigned, "set_aside": result.set_aside,
            "cluster_seconds": result.seconds,
        }
    )
    session.tracker.log_artifacts(session.layout.corrections)
    summary = update_summary(session.layout, "cluster", result)
    if labels:
        return eval_step(session, labels)
    labels = summary.get("evaluation", {}).get("labels")
    if labels:  # the run was scored: its metrics must describe these clusters, not the last ones
        log.info("scoring the new clusters against %s, as the last evaluation did", labels)
        try:
            summary = eval_step(session, labels)
        except FileNotFoundError as err:
            log.warning("the last clusters' metrics are removed, the new ones cannot be scored: %s", err)
            session.layout.metrics.unlink(missing_ok=True)
            summary = drop_from_summary(session.layout, "metrics", "evaluation")
    return summary


def eval_step(session: Session, labels: str) -> dict:
    """Score the clusters against ``labels``; a later re-cluster scores again against them."""
    from raypipe.evaluation.evaluate import evaluate_run

    metrics = evaluate_run(str(session.layout.root), labels)
    session.tracker.log_metrics(metrics)
    update_summary(session.layout, "evaluation", {"labels": str(labels)})
    return update_summary(session.layout, "metrics", metrics)


def tune_step(session: Session, space: str, settings: SweepSettings, labels: str | None) -> dict:
    """A Ray Tune sweep; the command's run is the parent, each trial a nested MLflow run."""
    import dataclasses

    from raypipe.ray_session import ensure_ray
    from raypipe.sweep.tuner import run_sweep

    ensure_ray(session.config.ray.address)
    result = run_sweep(session.layout.root, space, session.config, settings, labels)
    session.tracker.log_params({"tune": {**dataclasses.asdict(settings), "metric": result.metric,
                                         "space": space, "labels": labels}})  # fmt: skip
    for trial in result.trials:
        log_trial(session.config.tracking, trial)
    failed = sum(t.status != "ok" for t in result.trials)
    session.tracker.log_metrics({"trials": len(result.trials), "trials_failed": failed})
    if result.best is not None:
        session.tracker.log_metrics(result.best.metrics, prefix="best.")
    else:
        session.exit_code = 1
    session.tracker.log_artifacts(*result.files)
    summary = {
        "metric": result.metric, "mode": result.mode, "search": settings.search, "space": space,
        "trials": len(result.trials), "failed": failed,
        "best_trial": result.best.trial if result.best else None,
        "best_value": result.best.metrics[result.metric] if result.best else None,
        "best_config": result.best_config, "files": [str(f) for f in result.files],
    }  # fmt: skip
    return update_summary(session.layout, "tune", summary)


def log_trial(tracking: TrackingConfig, trial: TrialRecord) -> None:
    """One nested MLflow run per trial, logged from the driver (one writer for the store)."""
    tags = {"raypipe.command": "tune-trial", "raypipe.trial_status": trial.status}
    if trial.error:
        tags["raypipe.error"] = trial.error
    with tracked_run(tracking, f"trial:{trial.trial}", nested=True, tags=tags) as child:
        child.log_params(trial.columns())
        child.log_metrics({**trial.metrics, "seconds": trial.seconds})


def report_step(session: Session, options: ReportOptions | None = None) -> dict:
    from raypipe.report import write_report

    started = time.perf_counter()
    path = write_report(session.layout.root, options)
    return update_summary(session.layout, "report", {"path": path.name, "seconds": time.perf_counter() - started})


def aggregate_step(session: Session, settings: AggregateSettings) -> dict:
    from raypipe.aggregate.train import aggregate_run

    result = aggregate_run(str(session.layout.root), settings)
    session.tracker.log_metrics(
        {"aggregate_final_loss": result.final_loss, "aggregate_seconds": result.seconds}
    )
    return update_summary(session.layout, "aggregate", result)
