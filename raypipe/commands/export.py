"""``raypipe export RUN --folders [--link]``: a folder per cluster, written by Ray tasks."""

from __future__ import annotations

import argparse

from raypipe.errors import UsageError
from raypipe.pipeline.export import export_folders

NAME = "export"
HELP = "write a clustered run's faces as one folder per cluster (RUN/clustered_faces/<cluster>/)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", help="clustered run folder")
    parser.add_argument("--folders", action="store_true", help="one folder per cluster, each face's chip in it")
    parser.add_argument(
        "--link", action="store_true",
        help="entries are links to the source photos (symbolic, else hard links) instead of chip copies",
    )  # fmt: skip


def run(args: argparse.Namespace) -> int:
    if not args.folders:
        raise UsageError("say what to export: --folders (one folder per cluster)")
    result = export_folders(args.run, link=args.link)
    print(f"{result.files} faces in {result.folders} folders under {args.run.rstrip('/')}/clustered_faces/ "
          f"({result.tasks} tasks, {result.seconds:.1f}s)")  # fmt: skip
    return 0
