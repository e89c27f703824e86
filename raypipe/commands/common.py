"""Options and steps shared by several sub-commands."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from raypipe.config import Config


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("configuration")
    group.add_argument("--config", metavar="YAML", help="config file (YAML or JSON)")
    group.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
        help="override one setting, e.g. --set extract.detector=dlib-cnn (repeatable)",
    )  # fmt: skip
    add_tracking_arguments(group)


def add_tracking_arguments(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    parser.add_argument("--tracking-uri", help="MLflow tracking URI (default: sqlite:///mlflow.db here)")
    parser.add_argument("--no-tracking", action="store_true", help="do not record an MLflow run")


def add_extract_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("inputs", nargs="+", help="folders, files, globs, list files or s3:// / gs:// prefixes")
    parser.add_argument("--out", required=True, help="output folder of the run")
    parser.add_argument("--detector", help="detector name (shortcut for --set extract.detector=NAME)")
    parser.add_argument("--embedder", help="embedder name (shortcut for --set extract.embedder=NAME)")
    parser.add_argument("--model-root", help="folder of model files (ArcFace ONNX, insightface packs)")
    parser.add_argument("--domain", choices=["photo", "comic"], help="photos of people or comic pages")
    parser.add_argument("--address", help="Ray cluster address (default: RAY_ADDRESS or a local Ray)")
    parser.add_argument("--overwrite", action="store_true", help="redo an extraction made with other settings")


def load_config(args: argparse.Namespace, base: Path | None = None) -> Config:
    """Config from ``base`` (a run's config.json) or defaults, then --config, --set and shortcuts."""
    overrides = list(args.overrides)
    shortcuts = {
        "detector": "extract.detector", "embedder": "extract.embedder",
        "model_root": "extract.model_root", "domain": "extract.domain", "address": "ray.address",
        "tracking_uri": "tracking.uri", "clusterer": "cluster.clusterer",
    }  # fmt: skip
    for attr, key in shortcuts.items():
        value = getattr(args, attr, None)
        if value:
            overrides.append(f"{key}={value}")
    if getattr(args, "no_tracking", False):
        overrides.append("tracking.enabled=false")
    if base is not None and base.exists():
        stored = json.loads(base.read_text(encoding="utf-8"))
        stored.pop("tracking", None)  # where (and whether) to record is chosen per command, not per run
        config = Config.from_dict(stored)
        return config.updated(args.config, overrides)
    return Config.load(args.config, overrides)
