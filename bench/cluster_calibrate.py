"""Fit the "same person" thresholds on the FIT identities of labelled sets; never on held-out ones.

    python bench/cluster_calibrate.py RUN/faces.parquet CROPS.parquet ...

Each set is split by identity (``raypipe.evaluation.protocol``); only the fit half is read here.
Prints, per named embedding model, the ``average`` threshold (average linkage, the ``auto``
default) and, with ``--pair``, the ``pair`` threshold (a k-NN graph edge, Chinese Whispers; and
the vote distance of ``cluster --into``, which uses the same value) with the best mean BCubed F
over that model's sets, and the same for the data-driven z of vectors of no calibrated
model (mean over models, each the mean over its sets); with ``--leftover``, the ``leftover``
distance (and z) of ``auto``'s singleton attachment, the other thresholds as calibrated. Copy the values into raypipe/cluster/calibration.py, then report with
``bench/generalisation.py``.

No person in these sets is seen once, so nothing here pays for merging two strangers: ArcFace's
``average``, ``leftover`` and ``lone_pair`` are fitted with people seen once by
``bench/strangers.py`` (docs/photo-calibration.md).
"""

from __future__ import annotations

import argparse
import zlib
from collections import defaultdict

import numpy as np

from raypipe.cluster.auto import AutoClusterer, average_linkage_tree_labels
from raypipe.cluster.calibration import background_similarity
from raypipe.cluster.constraints import enforce_cannot_link
from raypipe.cluster.graph import ChineseWhispers
from raypipe.cluster.incremental import assign_incremental
from raypipe.evaluation.compare import load_labelled_faces
from raypipe.evaluation.protocol import fit_and_score, held_out_scores, identity_halves

AVERAGE = np.round(np.arange(0.04, 0.90, 0.01), 3)
PAIR = np.round(np.arange(0.04, 0.80, 0.01), 3)
Z_AVERAGE = np.round(np.arange(1.0, 8.0, 0.2), 2)
Z_PAIR = np.round(np.arange(1.0, 9.0, 0.25), 2)
LEFTOVER = np.round(np.arange(0.0, 0.90, 0.02), 3)
Z_LEFTOVER = np.round(np.arange(0.0, 4.0, 0.2), 2)


def average_scores(faces, distances: np.ndarray) -> list[float]:
    """BCubed F of average linkage with cannot-link, cut at each distance (one tree for all)."""
    cut = average_linkage_tree_labels(faces.X)
    scores = []
    for t in distances:
        labels = enforce_cannot_link(faces.X, cut(t), faces.groups, t)
        scores.append(held_out_scores(faces.labels[faces.scored], labels[faces.scored])["bcubed_f"])
    return scores


def pair_scores(faces, distances: np.ndarray) -> list[float]:
    return [
        fit_and_score(ChineseWhispers(threshold=float(t), cannot_link=True), faces)["bcubed_f"]
        for t in distances
    ]


def into_scores(faces, distances: np.ndarray) -> list[float]:
    """BCubed F of ``cluster NEW --into OLD``: half of the images (by a hash of the image id) are
    clustered by ``auto``, the other half join them by the k-NN vote within each distance."""
    new = np.array([zlib.crc32(str(group).encode()) % 2 == 1 for group in faces.groups])
    old_labels = (
        AutoClusterer(model=faces.model).fit(faces.X[~new], groups=faces.groups[~new]).labels_
    )
    scores = []
    for t in distances:
        labels = np.empty(len(faces.X), np.int64)
        labels[~new] = old_labels
        labels[new] = assign_incremental(
            faces.X[~new],
            old_labels,
            faces.X[new],
            float(t),
            new_groups=faces.groups[new],
            model=faces.model,
        )
        scores.append(held_out_scores(faces.labels[faces.scored], labels[faces.scored])["bcubed_f"])
    return scores


def leftover_scores(faces, distances: np.ndarray, model: str | None) -> np.ndarray:
    """Per distance: BCubed F of ``auto`` (``model``'s thresholds) attaching singletons within it,
    and the relative error of its number of clusters, ``|clusters / people - 1|``."""
    scores = [
        fit_and_score(AutoClusterer(model=model, leftover_distance=float(t)), faces)
        for t in distances
    ]
    return np.array([[s["bcubed_f"], abs(s["clusters"] / s["people"] - 1)] for s in scores])


def closest_count(grid: np.ndarray, scores: list[np.ndarray]) -> str:
    """The cut with the fewest excess or missing clusters among those within 0.005 of the best F."""
    f, count_error = np.mean(scores, axis=0).T
    candidates = np.flatnonzero(f >= f.max() - 0.005)
    top = candidates[np.argmin(count_error[candidates])]
    return (
        f"{grid[top]} (mean BCubed F {f[top]:.4f}, best {f.max():.4f}; "
        f"mean |clusters/people - 1| {count_error[top]:.3f}, at {grid[0]}: {count_error[0]:.3f})"
    )


def z_distances(faces, zs: np.ndarray) -> np.ndarray:
    median, spread = background_similarity(faces.X)
    return 1.0 - np.minimum(median + zs * spread, 0.999)


def best(grid: np.ndarray, scores: list[list[float]]) -> str:
    mean = np.mean(scores, axis=0)
    top = int(np.argmax(mean))
    plateau = grid[mean >= mean[top] - 0.005]
    return f"{grid[top]} (mean BCubed F {mean[top]:.4f}; within 0.005: {plateau.min()}..{plateau.max()})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="+", help="faces.parquet files (one labelled set each)")
    parser.add_argument("--pair", action="store_true", help="also fit the pair thresholds (slower)")
    parser.add_argument("--leftover", action="store_true", help="only fit the leftover distances")
    args = parser.parse_args()
    by_model: dict[str, list] = defaultdict(list)
    for path in args.sets:
        faces = identity_halves(load_labelled_faces(path))["fit"]
        by_model[faces.model].append(faces)
        print(
            f"{path}: fit half {faces.scored.sum()} faces of {len(set(faces.labels))} people, {faces.model}",
            flush=True,
        )
    if args.leftover:
        fit_leftover(by_model)
        return
    for model, sets in by_model.items():
        print(
            f"{model} average: {best(AVERAGE, [average_scores(f, AVERAGE) for f in sets])}",
            flush=True,
        )
    z_scores = [
        np.mean([average_scores(f, z_distances(f, Z_AVERAGE)) for f in sets], axis=0)
        for sets in by_model.values()
    ]
    print(
        f"data-driven z average (each model weighs the same): {best(Z_AVERAGE, z_scores)}",
        flush=True,
    )
    if args.pair:
        for model, sets in by_model.items():
            print(
                f"{model} pair:    {best(PAIR, [pair_scores(f, PAIR) for f in sets])}", flush=True
            )
            print(
                f"{model} --into:  {best(PAIR, [into_scores(f, PAIR) for f in sets])}", flush=True
            )
        z_scores = [
            np.mean([pair_scores(f, z_distances(f, Z_PAIR)) for f in sets], axis=0)
            for sets in by_model.values()
        ]
        print(f"data-driven z pair:    {best(Z_PAIR, z_scores)}")


def fit_leftover(by_model: dict[str, list]) -> None:
    """Leftover cuts: the number of clusters closest to the people, F within 0.005 of the best."""
    for model, sets in by_model.items():
        scores = [leftover_scores(f, LEFTOVER, model) for f in sets]
        print(f"{model} leftover: {closest_count(LEFTOVER, scores)}", flush=True)
    z_scores = [
        np.mean([leftover_scores(f, z_distances(f, Z_LEFTOVER), None) for f in sets], axis=0)
        for sets in by_model.values()
    ]
    print(
        f"data-driven z leftover (each model weighs the same): {closest_count(Z_LEFTOVER, z_scores)}"
    )


if __name__ == "__main__":
    main()
