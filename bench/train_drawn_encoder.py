"""Train the drawn-face encoder that raypipe ships (``raypipe/features/weights/drawn_face.npz``).

Stage ``simclr``: SimCLR (colour-aware augmentations: no hue jitter, mild saturation) on the
unlabelled drawn faces of ``../shared/data/anime_unlabelled`` plus the fan-art crops of
``../shared/data/anime_fanart`` (labels unused). Stage ``metric``: batch-hard triplets on the
fan-art characters' labels, starting from the SimCLR weights. ``../shared/data/anime`` is
evaluation only (``SOURCES.md``) and never read: all its characters are unseen by the encoder.

    nice -n 10 python bench/train_drawn_encoder.py --stage simclr --seconds 600 --out /tmp/simclr.npz
    nice -n 10 python bench/train_drawn_encoder.py --stage metric --init /tmp/simclr.npz --seconds 150
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import cv2
import numpy as np
from drawn_features import SHIPPABLE_SOURCES

from raypipe.devices import torch_device
from raypipe.features.drawn import WEIGHTS, DrawnFaceEncoder, save_weights
from raypipe.features.learn.backbone import chips_to_tensor
from raypipe.features.learn.train import TrainLimits, train_metric, train_simclr

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
log = logging.getLogger("train_drawn_encoder")


def read_rgb(paths: list[Path]) -> list[np.ndarray]:
    """Decodable images of ``paths`` as RGB arrays (undecodable files are skipped and logged)."""
    images = []
    for path in paths:
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            log.warning("cannot decode %s", path)
            continue
        images.append(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
    return images


def training_characters(root: Path) -> tuple[list[np.ndarray], list[str]]:
    """Crops and labels of every character folder under ``root``."""
    chips, labels = [], []
    for name in sorted(folder.name for folder in root.iterdir() if folder.is_dir()):
        images = read_rgb(sorted((root / name).iterdir()))
        chips += images
        labels += [name] * len(images)
    return chips, labels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", choices=["simclr", "metric"], required=True)
    parser.add_argument("--data", type=Path, default=SHARED)
    parser.add_argument("--init", type=Path, help="weights to start from (.npz)")
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--characters", nargs="*", help="subset of the fan-art characters")
    parser.add_argument("--out", type=Path, default=WEIGHTS)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    encoder = DrawnFaceEncoder(weights=args.init) if args.init else DrawnFaceEncoder(weights=None)
    network = encoder.network_
    device = torch_device("auto")
    chips, labels = [], []
    for source in SHIPPABLE_SOURCES:
        chips_of, labels_of = training_characters(args.data / source)
        chips, labels = chips + chips_of, labels + labels_of
    if args.characters:
        keep = [label in args.characters for label in labels]
        chips = [c for c, k in zip(chips, keep) if k]
        labels = [lab for lab, k in zip(labels, keep) if k]
    limits = TrainLimits(args.epochs, args.seconds, batch_size=256, learning_rate=2e-3)
    if args.stage == "simclr":
        unlabelled = read_rgb(sorted((args.data / "anime_unlabelled").iterdir()))
        images = chips_to_tensor(unlabelled + chips, encoder.size)
        log.info("SimCLR on %d unlabelled + %d fan-art faces", len(unlabelled), len(chips))
        train_simclr(network, images, device, limits, temperature=0.2)
    else:
        images = chips_to_tensor(chips, encoder.size)
        log.info("metric learning on %d faces of %s", len(chips), sorted(set(labels)))
        limits.learning_rate = 5e-4
        train_metric(network, images, np.asarray(labels), device, limits, margin=0.2)
    save_weights(network, args.out, encoder.size, encoder.width)
    log.info("wrote %s", args.out)


if __name__ == "__main__":
    main()
