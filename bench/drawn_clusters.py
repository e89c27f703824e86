"""Drawn-face clustering on labelled character crops: the drawn-face encoders vs colour histograms.

Each image of ``../shared/data/anime/<character>/`` is one face, chipped and embedded exactly
as a run with ``--domain comic --detector whole-image`` does it (the embedder's own ``align``).
Characters are the fixed TRAINING or REPORTING half (:mod:`raypipe.features.drawn`): settings
are chosen on ``--characters training`` and quoted on ``--characters reporting``. Printed per
embedder: the default clusterer without k, k-means and Ward agglomerative told the true k (NMI,
BCubed F, accuracy, clusters, unassigned share). ``--sweep`` prints the "same character"
distance grid of the default clusterer (choose it on the training characters). The default
DenseNet embedder's head was fitted on all 20 labelled characters, these included: its figures
on unseen characters and its distances come from ``bench/drawn_protocol.py``.

    nice -n 10 python bench/drawn_clusters.py --characters reporting --model-root ~/.raypipe/models
    nice -n 10 python bench/drawn_clusters.py --characters training --sweep --model-root ~/.raypipe/models
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from raypipe.cluster import CLUSTERERS
from raypipe.detect.base import Face
from raypipe.embed import EMBEDDERS
from raypipe.embed.select import drawn_embedder
from raypipe.evaluation.metrics import score_clustering
from raypipe.features.drawn import REPORTING_CHARACTERS, TRAINING_CHARACTERS

ANIME = Path(__file__).resolve().parents[2] / "shared" / "data" / "anime"
SETS = {"training": TRAINING_CHARACTERS, "reporting": REPORTING_CHARACTERS}


def load_images(root: Path, characters=None, per_character: int | None = None):
    """RGB images and labels of ``root/<character>/`` for each of ``characters``, or of the flat
    folder ``root`` (label "") when ``characters`` is None. Undecodable files are skipped."""
    folders = [(root / name, name) for name in characters] if characters else [(root, "")]
    images, labels = [], []
    for folder, name in folders:
        for path in sorted(folder.iterdir())[:per_character]:
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is not None:
                images.append(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
                labels.append(name)
    return images, np.array(labels)


def whole_image_chips(embedder, images) -> np.ndarray:
    """Each image as one face, chipped by ``embedder`` as a ``--detector whole-image`` run does."""
    return np.stack([embedder.align(image, Face((0.0, 0.0, image.shape[1], image.shape[0]), 1.0)) for image in images])


def score(X: np.ndarray, labels: np.ndarray, clusterer: dict) -> dict[str, float]:
    """Scores of ``clusterer`` on ``X`` against ``labels``, plus the unassigned share."""
    predicted = CLUSTERERS.build(clusterer).fit(X).labels_
    scores = score_clustering(labels, predicted)
    scores["unassigned"] = float(np.mean(predicted < 0))
    return scores


def clusterers(k: int, model: str) -> dict[str, dict]:
    return {
        "default (no k)": {"name": "auto", "model": model},
        "k-means (true k)": {"name": "kmeans", "n_clusters": k, "n_init": 10},
        "ward (true k)": {"name": "agglomerative", "linkage": "ward", "n_clusters": k},
    }


def row(feature: str, method: str, s: dict[str, float]) -> str:
    return (
        f"| {feature} | {method} | {s['nmi']:.3f} | {s['bcubed_f']:.3f} | {s['accuracy']:.3f} "
        f"| {s['n_clusters']:.0f} | {s['unassigned']:.2f} |"
    )


def embedders(model_root: str | None) -> dict[str, dict]:
    """The default drawn-face embedder for ``model_root``, the small shipped CNN and colour."""
    default = drawn_embedder(model_root, auto_fetch=False)
    named = {"default": default, "drawn (small CNN)": {"name": "feature", "feature": "drawn"}}
    return {**named, "color-hist": {"name": "feature", "feature": "color-hist"}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ANIME)
    parser.add_argument("--characters", choices=sorted(SETS), default="reporting")
    parser.add_argument("--model-root", help="folder with the drawn-face backbone (raypipe models fetch)")
    parser.add_argument("--sweep", action="store_true", help="distance grid of the default clusterer")
    args = parser.parse_args()
    images, labels = load_images(args.data, SETS[args.characters])
    k = len(set(labels))
    print(f"{len(labels)} crops of {k} {args.characters} characters")
    print("| embedding | clusterer | NMI | BCubed F | accuracy | clusters | unassigned |")
    print("|---|---|---|---|---|---|---|")
    for name, spec in embedders(args.model_root).items():
        embedder = EMBEDDERS.build(spec)
        X = embedder.embed(whole_image_chips(embedder, images))
        label = f"{name}: {embedder.model_name}"
        if args.sweep:
            for threshold in np.arange(0.4, 0.9, 0.02):
                s = score(X, labels, {"name": "auto", "threshold": float(threshold)})
                print(row(label, f"auto t={threshold:.2f}", s))
            continue
        for method, clusterer in clusterers(k, embedder.model_name).items():
            print(row(label, method, score(X, labels, clusterer)))


if __name__ == "__main__":
    main()
