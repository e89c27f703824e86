"""``raypipe eval RUN --labels FOLDER``: NMI, ARI, purity, pairwise and BCubed F, accuracy."""

from __future__ import annotations

import argparse

from raypipe.commands.common import add_config_arguments, load_config
from raypipe.layout import RunLayout
from raypipe.workflow import eval_step, finish

NAME = "eval"
HELP = "score a clustered run against labels given by the images' parent folders (writes metrics.json)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", help="clustered run folder")
    parser.add_argument("--labels", required=True, metavar="FOLDER", help="folder whose sub-folders name the people")
    add_config_arguments(parser)


def run(args: argparse.Namespace) -> int:
    config = load_config(args, base=RunLayout.at(args.run).config)
    with finish(args.run, config, NAME) as session:
        session.summary = eval_step(session, args.labels)
    return session.exit_code
