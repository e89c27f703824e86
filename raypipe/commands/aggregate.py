"""``raypipe aggregate RUN``: a conditional VAE decodes one face per cluster (RUN/aggregate/)."""

from __future__ import annotations

import argparse

from raypipe.aggregate.settings import AggregateSettings
from raypipe.commands.common import add_config_arguments, load_config
from raypipe.layout import RunLayout
from raypipe.workflow import aggregate_step, finish

NAME = "aggregate"
HELP = "train a conditional VAE on a clustered run's chips; write RUN/aggregate/<cluster>.png"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = AggregateSettings()
    parser.add_argument("run", help="clustered run folder")
    parser.add_argument(
        "--epochs", type=int, default=defaults.epochs, help="training epochs (default %(default)s)"
    )
    parser.add_argument(
        "--image-size",
        type=int,
        default=defaults.image_size,
        help="side of the chips and decoded faces, a multiple of 16 (default %(default)s)",
    )
    parser.add_argument(
        "--device",
        default=defaults.device,
        help="torch device: auto (GPU when present), cpu, cuda, cuda:1 ... (default %(default)s)",
    )
    parser.add_argument("--max-per-cluster", type=int, default=defaults.max_per_cluster,
                        help="chips per cluster to train on, drawn at random (default %(default)s)")  # fmt: skip
    add_config_arguments(parser)


def run(args: argparse.Namespace) -> int:
    settings = AggregateSettings(
        epochs=args.epochs,
        image_size=args.image_size,
        device=args.device,
        max_per_cluster=args.max_per_cluster,
    )
    config = load_config(args, base=RunLayout.at(args.run).config)
    with finish(args.run, config, NAME) as session:
        session.summary = aggregate_step(session, settings)
    return session.exit_code
