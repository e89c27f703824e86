"""``raypipe extract INPUTS --out RUN``: faces found, aligned and embedded, up to faces.parquet."""

from __future__ import annotations

import argparse

from raypipe.commands.common import add_config_arguments, add_extract_arguments, load_config
from raypipe.workflow import extract_step, finish

NAME = "extract"
HELP = "detect, align and embed every face (writes faces.parquet, errors.parquet, chips/)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_extract_arguments(parser)
    add_config_arguments(parser)


def run(args: argparse.Namespace) -> int:
    config = load_config(args)
    with finish(args.out, config, NAME) as session:
        session.summary = extract_step(session, args.inputs, args.overwrite)
    return session.exit_code
