"""dlib vs ArcFace-ONNX on labelled photos with the default clusterer.

    python bench/embedders.py [PHOTOS] [--arcface PATH]

Prints one row per embedder: NMI, BCubed F, clusters, ms per face (embedding stage, worker
time), faces set aside by the quality filter. Defaults: ../shared/data/photos and
../shared/models/fr_feature.onnx.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
from pathlib import Path

from raypipe.cluster.step import cluster_run
from raypipe.config import Config
from raypipe.evaluation.evaluate import evaluate_run
from raypipe.pipeline.extract import extract

SHARED = Path(__file__).resolve().parents[2] / "shared"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("photos", nargs="?", default=str(SHARED / "data" / "photos"))
    parser.add_argument("--arcface", default=str(SHARED / "models" / "fr_feature.onnx"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    embedders = {"dlib": ["extract.embedder=dlib"], "arcface-onnx": [f"extract.embedder.model_path={args.arcface}"]}
    print(f"{'embedder':14} {'NMI':>6} {'BCubedF':>8} {'clusters':>8} {'ms/face':>8} {'set aside':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        for name, overrides in embedders.items():
            config = Config.load(overrides=["tracking.enabled=false", *overrides])
            out = str(Path(tmp) / name)
            extracted = extract([args.photos], out, config)
            clustered = cluster_run(out, config)
            metrics = evaluate_run(out, args.photos)
            ms = 1000 * extracted.stage_seconds["embed"] / max(extracted.faces, 1)
            print(f"{name:14} {metrics['nmi']:6.3f} {metrics['bcubed_f']:8.3f} {clustered.clusters:8d} "
                  f"{ms:8.1f} {clustered.set_aside:9d}")


if __name__ == "__main__":
    main()
