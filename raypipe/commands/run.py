"""``raypipe run INPUTS --out RUN``: extract, cluster, (with ``--labels``) evaluate, write the report."""

from __future__ import annotations

import argparse

from raypipe.commands.common import add_config_arguments, add_extract_arguments, load_config
from raypipe.report import ReportOptions
from raypipe.workflow import cluster_step, extract_step, finish, report_step

NAME = "run"
HELP = "the whole pipeline: extract faces, cluster them into people, evaluate when labels are given"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_extract_arguments(parser)
    parser.add_argument("--clusterer", help="clusterer name (shortcut for --set cluster.clusterer=NAME)")
    parser.add_argument("--labels", metavar="FOLDER", help="score against the images' parent folders under FOLDER")
    parser.add_argument("--no-report", action="store_true", help="do not write report.html (see `raypipe report`)")
    add_config_arguments(parser)


def run(args: argparse.Namespace) -> int:
    config = load_config(args)
    with finish(args.out, config, NAME) as session:
        session.summary = extract_step(session, args.inputs, args.overwrite)
        if session.summary["extract"]["faces"]:
            session.summary = cluster_step(session, labels=args.labels)
        if not args.no_report:
            session.summary = report_step(session, ReportOptions(labels=args.labels))
    return session.exit_code
