"""``raypipe features ACTION RUN``: research features, their combinations and the sweep over them.

Actions: ``extract`` (one extractor -> ``RUN/features/<name>/``), ``combine`` (features ->
one feature), ``train-simclr`` (self-supervised encoder -> feature ``simclr``), ``train-metric``
(triplet fine-tune on labels -> feature ``metric``), ``sweep`` (feature x reducer x clusterer
grid, one Ray Tune trial each -> ``RUN/reductions/...`` and ``RUN/results/results.csv``). Each is
an MLflow run (``features ACTION:RUN``) recording its settings, counts and written tables; a
sweep's trials are nested runs, as ``raypipe tune`` records them.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from raypipe.commands.common import add_tracking_arguments
from raypipe.config import TrackingConfig
from raypipe.research.sweep import TRUE_K
from raypipe.sweep.settings import SweepSettings
from raypipe.tracking import tracked_run

NAME = "features"
HELP = "research features: extract, combine, train SimCLR / metric encoders, sweep reducers x clusterers"

log = logging.getLogger(__name__)


def parse_spec(text: str) -> dict[str, Any]:
    """``"pca"``, ``"pca:n_components=50,whiten=true"`` or YAML ``"{name: pca, ...}"`` -> dict."""
    if text.lstrip().startswith("{"):
        return dict(yaml.safe_load(text))
    name, _, settings = text.partition(":")
    return {"name": name, **parse_settings(settings.split(",") if settings else [])}


def parse_settings(items: list[str]) -> dict[str, Any]:
    """``["k=v", ...]`` with YAML values (numbers, booleans, lists)."""
    settings = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"setting {item!r} is not of the form key=value")
        settings[key.strip()] = yaml.safe_load(value)
    return settings


def _training_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--epochs", type=int, default=100, help="most epochs (default %(default)s)")
    parser.add_argument("--max-seconds", type=float, default=300.0,
                        help="stop training after this long (default %(default)s)")  # fmt: skip
    parser.add_argument(
        "--size", type=int, default=64, help="chip side fed to the CNN (default %(default)s)"
    )
    parser.add_argument("--width", type=int, default=32, help="CNN width (default %(default)s)")
    parser.add_argument("--device", default="auto", help="auto (GPU when present), cpu, cuda")
    parser.add_argument("--set", dest="settings", action="append", default=[], metavar="KEY=VALUE",
                        help="any other extractor setting (repeatable)")  # fmt: skip


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True)

    extract = actions.add_parser("extract", help="compute one feature for every face")
    extract.add_argument("run", help="run folder holding faces.parquet and chips/")
    extract.add_argument(
        "--name", required=True, help="extractor: hog, lbp, color-hist, sift-fisher, ..."
    )
    extract.add_argument(
        "--as", dest="store_as", help="folder name under RUN/features (default: --name)"
    )
    extract.add_argument("--set", dest="settings", action="append", default=[], metavar="KEY=VALUE",
                         help="extractor setting, e.g. --set grid=3 (repeatable)")  # fmt: skip
    extract.add_argument("--ray", action="store_true",
                         help="describe the chips with a Ray Data actor pool (RAY_ADDRESS or a local Ray)")  # fmt: skip

    combine = actions.add_parser(
        "combine", help="concatenate stored features, faces all of them have"
    )
    combine.add_argument("run")
    combine.add_argument("features", nargs="+", help="two or more stored feature names")
    combine.add_argument("--name", help="stored name (default: A+B+...)")
    combine.add_argument(
        "--weights", type=float, nargs="+", help="one weight per feature (default 1)"
    )
    combine.add_argument("--block-norm", choices=["l2", "standard"], default="l2",
                         help="per-feature normalisation before concatenating (default %(default)s)")  # fmt: skip

    simclr = actions.add_parser("train-simclr", help="train a SimCLR encoder on the run's chips")
    simclr.add_argument("run")
    simclr.add_argument(
        "--as", dest="store_as", default="simclr", help="stored name (default %(default)s)"
    )
    simclr.add_argument("--from-shipped", action="store_true",
                        help="start from raypipe's drawn-face encoder (its --size and --width)")  # fmt: skip
    _training_arguments(simclr)

    metric = actions.add_parser(
        "train-metric", help="fine-tune an encoder with triplets on labelled faces"
    )
    metric.add_argument("run")
    metric.add_argument(
        "--as", dest="store_as", default="metric", help="stored name (default %(default)s)"
    )
    metric.add_argument("--init", help="stored learned feature to start from (e.g. simclr)")
    metric.add_argument("--labels", metavar="CSV",
                        help="face_id,label file (default: label column or parent folder of each image)")  # fmt: skip
    _training_arguments(metric)

    sweep = actions.add_parser(
        "sweep", help="cluster features x reducers x clusterers; write results/"
    )
    sweep.add_argument("run")
    sweep.add_argument("--features", nargs="+", help="stored feature names (default: all)")
    sweep.add_argument("--reducers", nargs="+", default=["none"], type=parse_spec,
                       help="e.g. none pca:n_components=50 umap:n_components=10 autoencoder")  # fmt: skip
    sweep.add_argument("--clusterers", nargs="+", type=parse_spec,
                       default=[{"name": "kmeans", "n_clusters": TRUE_K}],
                       help=f"e.g. kmeans:n_clusters={TRUE_K} hdbscan:min_cluster_size=5")  # fmt: skip
    sweep.add_argument("--no-labels", action="store_true", help="do not score against labels")
    sweep.add_argument("--cpus-per-trial", type=float, default=SweepSettings().cpus_per_trial,
                       help="CPUs reserved per Ray Tune trial (default %(default)s)")  # fmt: skip
    for action in (extract, combine, simclr, metric, sweep):
        add_tracking_arguments(action)


def _labels(run: str, csv: str | None) -> np.ndarray:
    from raypipe.evaluation.labels import face_labels
    from raypipe.layout import RunLayout

    faces = pd.read_parquet(RunLayout.at(run).faces)
    if csv is None:
        return face_labels(faces)
    given = pd.read_csv(csv, dtype=str).set_index("face_id")["label"]
    return np.array([given.get(face_id) for face_id in faces["face_id"]], dtype=object)


def run(args: argparse.Namespace) -> int:
    command = f"{NAME} {args.action}"
    tracking = TrackingConfig(enabled=not args.no_tracking, uri=args.tracking_uri)
    with tracked_run(tracking, f"{command}:{Path(args.run).name}", tags={"raypipe.command": command}) as tracker:
        params, metrics, artifacts = _act(args, tracking)
        tracker.log_params(params)
        tracker.log_metrics(metrics)
        tracker.log_artifacts(*artifacts)
    return 1 if metrics.get("trials") and metrics["trials"] == metrics["trials_failed"] else 0


def _act(args: argparse.Namespace, tracking: TrackingConfig) -> tuple[dict, dict, list[Path]]:
    """Run the action; returns what MLflow records: params, metrics and files written."""
    from raypipe.features.store import FEATURE_CONFIG, FeatureStore
    from raypipe.research.combine import combine_features
    from raypipe.research.extract import extract_feature
    from raypipe.research.store import RANK_METRIC, RESULTS_FILE

    store = FeatureStore.at(args.run)
    if args.action == "sweep":
        from raypipe.ray_session import ensure_ray
        from raypipe.research.sweep import sweep_features
        from raypipe.workflow import log_trial

        features = args.features or store.names()
        ensure_ray()
        table, trials = sweep_features(args.run, features, args.reducers, args.clusterers,
                                       not args.no_labels, args.cpus_per_trial)  # fmt: skip
        for trial in trials:
            log_trial(tracking, trial)
        shown = [c for c in ("feature", "reducer", "clusterer", RANK_METRIC, "nmi", "accuracy",
                             "silhouette", "clusters") if c in table]  # fmt: skip
        log.info("results (%d rows, best first):\n%s", len(table), table[shown].head(20).to_string(index=False))
        params = {"features": features, "reducers": args.reducers, "clusterers": args.clusterers}
        best = {f"best_{RANK_METRIC}": table[RANK_METRIC].iloc[0]} if RANK_METRIC in table and len(table) else {}
        counts = {"results": len(table), "trials": len(trials),
                  "trials_failed": sum(t.status != "ok" for t in trials)}  # fmt: skip
        return params, {**counts, **best}, [store.layout.results / RESULTS_FILE]
    if args.action == "extract":
        spec = {"name": args.name, **parse_settings(args.settings)}
        stored = args.store_as or args.name
        table = extract_feature(args.run, spec, stored, use_ray=args.ray)
    elif args.action == "combine":
        table = combine_features(args.run, args.features, args.name, args.weights, args.block_norm)
        stored = args.name or "+".join(args.features)
    else:
        spec = {
            "name": "simclr" if args.action == "train-simclr" else "metric",
            "epochs": args.epochs, "max_seconds": args.max_seconds, "size": args.size,
            "width": args.width, "device": args.device, **parse_settings(args.settings),
        }  # fmt: skip
        metric = args.action == "train-metric"
        labels = _labels(args.run, args.labels) if metric else None
        state = store.load_state(args.init) if metric and args.init else None
        if getattr(args, "from_shipped", False):
            from raypipe.features.drawn import load_weights

            state, spec["size"], spec["width"] = load_weights()
        stored = args.store_as
        table = extract_feature(args.run, spec, stored, labels=labels, initial_state=state)
    metrics = {"faces": len(table.vectors), "dimension": table.vectors.shape[1]}
    return {"name": stored, **table.config}, metrics, [store.folder(stored) / FEATURE_CONFIG]
