"""Drawn-face clustering on labelled character crops: the shipped encoder vs colour histograms.

Each crop of ``../shared/data/anime/<character>/`` is one face, cropped as a run with
``--detector whole-image`` crops it. Characters are the fixed TRAINING or REPORTING half
(:mod:`raypipe.features.drawn`): settings are chosen on ``--characters training`` and quoted on
``--characters reporting``. Printed per embedding: the default clusterer without k, k-means and
Ward agglomerative told the true k (NMI, BCubed F, accuracy, clusters, unassigned share).

    nice -n 10 python bench/drawn_clusters.py --characters reporting
    nice -n 10 python bench/drawn_clusters.py --characters training --sweep
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from raypipe.cluster import CLUSTERERS
from raypipe.embed.crop import box_crop
from raypipe.evaluation.metrics import score_clustering
from raypipe.features import FEATURES
from raypipe.features.drawn import REPORTING_CHARACTERS, TRAINING_CHARACTERS

ANIME = Path(__file__).resolve().parents[2] / "shared" / "data" / "anime"
CHIP = 96  # the chip size of the ``feature`` embedder
SETS = {"training": TRAINING_CHARACTERS, "reporting": REPORTING_CHARACTERS}


def load_crops(root: Path, characters, per_character: int | None = None):
    """Chips (as a whole-image run crops them) and labels of ``characters``."""
    chips, labels = [], []
    for name in characters:
        for path in sorted((root / name).iterdir())[:per_character]:
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is None:
                continue
            rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
            chips.append(box_crop(rgb, (0, 0, rgb.shape[1], rgb.shape[0]), CHIP))
            labels.append(name)
    return chips, np.array(labels)


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ANIME)
    parser.add_argument("--characters", choices=sorted(SETS), default="reporting")
    parser.add_argument("--weights", help="encoder weights (.npz) instead of the shipped ones")
    parser.add_argument("--sweep", action="store_true", help="threshold x colour weight grid")
    args = parser.parse_args()
    chips, labels = load_crops(args.data, SETS[args.characters])
    k = len(set(labels))
    drawn = {"name": "drawn", **({"weights": args.weights} if args.weights else {})}
    if args.sweep:
        for weight in (0.0, 0.25, 0.4, 0.5, 0.6, 0.75):
            X = FEATURES.build({**drawn, "colour_weight": weight}).transform(chips)
            for threshold in np.arange(0.2, 0.85, 0.05):
                s = score(X, labels, {"name": "agglomerative", "threshold": float(threshold)})
                print(row(f"drawn w={weight}", f"average t={threshold:.2f}", s))
            print(row(f"drawn w={weight}", "ward (true k)", score(X, labels, clusterers(k, "")["ward (true k)"])))
        return
    print(f"{len(labels)} crops of {k} {args.characters} characters")
    print("| embedding | clusterer | NMI | BCubed F | accuracy | clusters | unassigned |")
    print("|---|---|---|---|---|---|---|")
    for feature, spec in (("drawn", drawn), ("color-hist", {"name": "color-hist"})):
        X = FEATURES.build(spec).transform(chips)
        X /= np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)
        for method, clusterer in clusterers(k, f"feature:{feature}").items():
            print(row(feature, method, score(X, labels, clusterer)))


if __name__ == "__main__":
    main()
