"""``raypipe tune RUN --space SPACE.yaml``: a Ray Tune sweep over clustering configurations."""

from __future__ import annotations

import argparse

from raypipe.commands.common import add_config_arguments, load_config
from raypipe.layout import RunLayout
from raypipe.sweep import SEARCHES, SweepSettings
from raypipe.workflow import finish, tune_step

NAME = "tune"
HELP = (
    "sweep feature x reducer x clusterer configurations of an extracted run with Ray Tune "
    "(writes tune/results.csv and tune/best_config.yaml)"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = SweepSettings()
    parser.add_argument("run", help="extracted run folder holding faces.parquet")
    parser.add_argument(
        "--space", required=True, metavar="YAML", help="search space file, e.g. tune/photos.yaml"
    )
    parser.add_argument(
        "--labels", metavar="FOLDER", help="score against the images' parent folders under FOLDER"
    )
    parser.add_argument(
        "--metric", help="metric to optimise (default: bcubed_f with --labels, else silhouette)"
    )
    parser.add_argument(
        "--mode", choices=["max", "min"], default=defaults.mode, help="maximise or minimise it"
    )
    parser.add_argument(
        "--search", choices=SEARCHES, default=defaults.search, help="search algorithm"
    )
    parser.add_argument("--num-samples", type=int, default=defaults.num_samples,
                        help="trials of random/optuna search (grid runs each point once)")  # fmt: skip
    parser.add_argument(
        "--time-budget", type=float, metavar="SECONDS", help="stop starting trials after this"
    )
    parser.add_argument(
        "--max-concurrent", type=int, help="trials at once (default: as the cluster's CPUs allow)"
    )
    parser.add_argument("--cpus-per-trial", type=float, default=defaults.cpus_per_trial,
                        help="CPUs reserved per trial (fractions share a core)")  # fmt: skip
    parser.add_argument(
        "--seed", type=int, default=defaults.seed, help="seed of the search algorithm"
    )
    parser.add_argument(
        "--address", help="Ray cluster address (default: RAY_ADDRESS or a local Ray)"
    )
    add_config_arguments(parser)


def run(args: argparse.Namespace) -> int:
    config = load_config(args, base=RunLayout.at(args.run).config)
    settings = SweepSettings(
        metric=args.metric, mode=args.mode, search=args.search, num_samples=args.num_samples,
        time_budget_s=args.time_budget, max_concurrent=args.max_concurrent,
        cpus_per_trial=args.cpus_per_trial, seed=args.seed,
    )  # fmt: skip
    with finish(args.run, config, NAME) as session:
        session.summary = tune_step(session, args.space, settings, args.labels)
    return session.exit_code
