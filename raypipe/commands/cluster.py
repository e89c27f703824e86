"""``raypipe cluster RUN``: (re)cluster an existing extraction without re-extracting."""

from __future__ import annotations

import argparse

from raypipe.commands.common import add_config_arguments, load_config
from raypipe.layout import RunLayout
from raypipe.workflow import cluster_step, finish

NAME = "cluster"
HELP = "cluster the faces of an extracted run (writes clusters.csv and clusters.parquet)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", help="run folder holding faces.parquet")
    parser.add_argument("--clusterer", help="clusterer name (shortcut for --set cluster.clusterer=NAME)")
    parser.add_argument(
        "--into", metavar="OLD_RUN",
        help="add these faces to OLD_RUN's clusters (old ids kept; the rest become new clusters)",
    )  # fmt: skip
    add_config_arguments(parser)


def run(args: argparse.Namespace) -> int:
    layout = RunLayout.at(args.run)
    config = load_config(args, base=layout.config)
    with finish(args.run, config, NAME) as session:
        session.summary = cluster_step(session, into=args.into)
    return session.exit_code
