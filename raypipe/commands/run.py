"""``raypipe run INPUTS --out RUN``: extract, cluster, and (with ``--labels``) evaluate."""

from __future__ import annotations

import argparse

from raypipe.commands.common import add_config_arguments, add_extract_arguments, load_config
from raypipe.workflow import cluster_step, eval_step, extract_step, finish

NAME = "run"
HELP = "the whole pipeline: extract faces, cluster them into people, evaluate when labels are given"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_extract_arguments(parser)
    parser.add_argument("--clusterer", help="clusterer name (shortcut for --set cluster.clusterer=NAME)")
    parser.add_argument("--labels", metavar="FOLDER", help="score against the images' parent folders under FOLDER")
    add_config_arguments(parser)


def run(args: argparse.Namespace) -> int:
    config = load_config(args)
    with finish(args.out, config, NAME) as session:
        session.summary = extract_step(session, args.inputs, args.overwrite)
        if session.summary["extract"]["faces"]:
            session.summary = cluster_step(session)
            if args.labels:
                session.summary = eval_step(session, args.labels)
    return session.exit_code
