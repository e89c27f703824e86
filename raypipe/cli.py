"""The ``raypipe`` command line: one sub-command per module in :mod:`raypipe.commands`."""

from __future__ import annotations

import argparse
import importlib
import sys

from raypipe import __version__
from raypipe.console import configure_console
from raypipe.errors import USER_ERRORS

#: Sub-command modules; each defines ``NAME``, ``HELP``, ``add_arguments(parser)``, ``run(args) -> int``.
COMMANDS = [
    "raypipe.commands.run",
    "raypipe.commands.extract",
    "raypipe.commands.cluster",
    "raypipe.commands.correct",
    "raypipe.commands.eval",
    "raypipe.commands.report",
    "raypipe.commands.export",
    "raypipe.commands.aggregate",
    "raypipe.commands.tune",
    "raypipe.commands.features",
    "raypipe.commands.models",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="raypipe", description="Find, align, embed and cluster faces with Ray."
    )
    parser.add_argument("--version", action="version", version=f"raypipe {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)
    for module_name in COMMANDS:
        module = importlib.import_module(module_name)
        command = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.add_arguments(command)
        command.set_defaults(handler=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_console(args.verbose)
    try:
        return int(args.handler(args) or 0)
    except USER_ERRORS as err:
        print(f"raypipe {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
