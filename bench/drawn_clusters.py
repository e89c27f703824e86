"""Drawn-face clustering on labelled character crops: the drawn-face encoders vs colour histograms.

Each image of ``--data/<character>/`` (default ``../shared/data/anime``) is one face, chipped
and embedded exactly as a run with ``--domain comic --detector whole-image`` does it (the
embedder's own ``align``). ``--characters``: the fixed TRAINING or REPORTING half of ``anime``
(:mod:`raypipe.features.drawn`), or ``all`` the folders under ``--data``. Printed per embedder:
the default clusterer without k, k-means and Ward agglomerative told the true k (NMI, BCubed F,
accuracy, clusters, unassigned share). ``--sweep`` prints the "same character" distance grid of
the default clusterer and of Chinese Whispers (``average`` and ``pair``): shipped distances are chosen on ``anime_fanart`` (``anime`` is evaluation
only), figures quoted on ``anime``, which no shipped drawn-face weights were fitted on. The
DenseNet embedder's figures and distances come from ``bench/drawn_protocol.py``.

    nice -n 10 python bench/drawn_clusters.py --characters all --embedders small-cnn colour
    nice -n 10 python bench/drawn_clusters.py --data ../shared/data/anime_fanart --characters all \
        --per-character 100 --embedders small-cnn --sweep
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
SETS = {"training": TRAINING_CHARACTERS, "reporting": REPORTING_CHARACTERS, "all": None}


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


def whole_image_chips(embedder, images, detector=None) -> np.ndarray:
    """Each image as one face, chipped by ``embedder`` as a ``--detector whole-image`` run does;
    ``detector``: a :class:`~raypipe.detect.whole_image.WholeImageDetector` whose face is chipped
    (one that reframes each crop on its drawn face), else the whole image."""
    def face(image: np.ndarray) -> Face:
        return detector.detect(image)[0] if detector is not None else Face((0.0, 0.0, image.shape[1], image.shape[0]), 1.0)

    return np.stack([embedder.align(image, face(image)) for image in images])


EMBEDDERS_SHOWN = ["default", "small-cnn", "colour"]


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


def embedders(model_root: str | None, names) -> dict[str, dict]:
    """Of the default drawn-face embedder for ``model_root``, the small shipped CNN (the fallback)
    and colour, those ``names``."""
    every = {"default": lambda: drawn_embedder(model_root, auto_fetch=False),
             "small-cnn": lambda: {"name": "feature", "feature": "drawn"},
             "colour": lambda: {"name": "feature", "feature": "color-hist"}}  # fmt: skip
    return {name: every[name]() for name in names}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ANIME)
    parser.add_argument("--characters", choices=sorted(SETS), default="reporting")
    parser.add_argument("--model-root", help="folder with the drawn-face backbone (raypipe models fetch)")
    parser.add_argument("--sweep", action="store_true", help="distance grid of the default clusterer")
    parser.add_argument("--embedders", nargs="+", choices=EMBEDDERS_SHOWN, default=EMBEDDERS_SHOWN)
    parser.add_argument("--per-character", type=int, help="at most this many crops (first by name)")
    args = parser.parse_args()
    names = SETS[args.characters] or sorted(folder.name for folder in args.data.iterdir() if folder.is_dir())
    images, labels = load_images(args.data, names, per_character=args.per_character)
    k = len(set(labels))
    print(f"{len(labels)} crops of {k} {args.characters} characters")
    print("| embedding | clusterer | NMI | BCubed F | accuracy | clusters | unassigned |")
    print("|---|---|---|---|---|---|---|")
    for name, spec in embedders(args.model_root, args.embedders).items():
        embedder = EMBEDDERS.build(spec)
        X = embedder.embed(whole_image_chips(embedder, images))
        label = f"{name}: {embedder.model_name}"
        if args.sweep:
            for threshold in np.arange(0.1, 0.9, 0.02):
                for clusterer in ("auto", "chinese-whispers"):  # calibration's average and pair
                    s = score(X, labels, {"name": clusterer, "threshold": float(threshold)})
                    print(row(label, f"{clusterer} t={threshold:.2f}", s))
            continue
        for method, clusterer in clusterers(k, embedder.model_name).items():
            print(row(label, method, score(X, labels, clusterer)))


if __name__ == "__main__":
    main()
