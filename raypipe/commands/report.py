"""``raypipe report RUN``: write RUN/report.html (galleries per cluster, map, metrics, errors)."""

from __future__ import annotations

import argparse

from raypipe.commands.common import add_config_arguments, load_config
from raypipe.layout import RunLayout
from raypipe.report import ReportOptions
from raypipe.report.projection import METHODS
from raypipe.workflow import finish, report_step

NAME = "report"
HELP = (
    "write RUN/report.html: run summary, one gallery per cluster, 2-D map, metrics, errors, sweeps"
)


def add_report_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the report, shared with ``raypipe run``."""
    defaults = ReportOptions()
    group = parser.add_argument_group("report")
    group.add_argument(
        "--single-file", action="store_true", help="embed the images (data URIs): one portable file"
    )
    group.add_argument(
        "--max-galleries",
        type=int,
        default=defaults.max_galleries,
        metavar="N",
        help="full galleries for the N largest clusters, the rest as a table (default %(default)s)",
    )
    group.add_argument(
        "--chips-per-cluster",
        type=int,
        default=defaults.chips_per_cluster,
        metavar="M",
        help="chips shown per gallery (default %(default)s)",
    )
    group.add_argument("--max-points", type=int, default=defaults.max_points, metavar="K",
                       help="faces on the 2-D map, drawn at random (default %(default)s)")  # fmt: skip
    group.add_argument("--projection", choices=METHODS, default=defaults.projection,
                       help="2-D map: t-SNE, UMAP or PCA (auto: PCA below 30 faces, else t-SNE)")  # fmt: skip


def report_options(args: argparse.Namespace) -> ReportOptions:
    return ReportOptions(
        labels=args.labels, single_file=args.single_file, max_galleries=args.max_galleries,
        chips_per_cluster=args.chips_per_cluster, projection=args.projection, max_points=args.max_points,
    )  # fmt: skip


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", help="run folder (extracted; clustered for galleries)")
    parser.add_argument("--labels", metavar="FOLDER",
                        help="label faces by their images' parent folders under FOLDER (default: when "
                             "metrics.json exists, every image's parent folder)")  # fmt: skip
    add_report_arguments(parser)
    add_config_arguments(parser)


def run(args: argparse.Namespace) -> int:
    config = load_config(args, base=RunLayout.at(args.run).config)
    with finish(args.run, config, NAME) as session:
        session.summary = report_step(session, report_options(args))
    return session.exit_code
