"""Drawn characters seen once: what ``auto`` does with them, on a labelled run of drawn crops.

    python bench/drawn_strangers.py RUN/faces.parquet [--draws 10] [--share 0.5]

RUN: labelled drawn crops extracted as a user runs them, e.g. ``raypipe run ../shared/data/anime
--out RUN --domain comic --detector whole-image --labels ../shared/data/anime``. Per draw, a
``--share`` of the characters is cut to one crop each (strangers, as
:mod:`raypipe.evaluation.strangers` does for photos), the others stay whole, and the run's
default clusterer (``auto`` for its embedder) clusters them: the share of strangers merged with
another face and the BCubed F of the characters kept whole, mean and worst draw. Then the
nearest-neighbour distances behind it (vectors standardised over the faces clustered together,
as ``auto`` does for the drawn encoder): how many faces of the characters kept whole have a
fellow within a distance, against how many strangers have anyone that close. Nothing is fitted.
"""

from __future__ import annotations

import argparse

import numpy as np

from raypipe.cluster.auto import AutoClusterer
from raypipe.cluster.base import run_standardised, unit_rows
from raypipe.evaluation.compare import load_labelled_faces
from raypipe.evaluation.strangers import stranger_scores, with_strangers

DISTANCES = (0.5, 0.6, 0.7, 0.8)


def nearest_distances(case) -> tuple[np.ndarray, np.ndarray]:
    """Per face kept whole, its nearest fellow's cosine distance; per stranger, its nearest face's
    (vectors standardised over the case, as ``auto`` clusters the drawn encoder's)."""
    Y = unit_rows(run_standardised(case.faces.X))
    D = 1.0 - Y @ Y.T
    np.fill_diagonal(D, np.inf)
    labels = case.faces.labels
    fellow = np.where(labels[:, None] == labels[None, :], D, np.inf).min(axis=1)
    return fellow[~case.stranger], D[case.stranger].min(axis=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("faces", help="faces.parquet of a labelled run of drawn crops")
    parser.add_argument("--draws", type=int, default=10)
    parser.add_argument("--share", type=float, default=0.5, help="characters seen once")
    args = parser.parse_args()
    faces = load_labelled_faces(args.faces)
    print(
        f"{len(faces.X)} faces of {len(np.unique(faces.labels))} characters, embedder {faces.model}"
    )
    scores, fellows, strangers = [], [], []
    for draw in range(args.draws):
        case = with_strangers(faces, share=args.share, seed=draw)
        labels = AutoClusterer(model=case.faces.model).fit(case.faces.X).labels_
        scores.append(stranger_scores(case, labels))
        fellow, stranger = nearest_distances(case)
        fellows.append(fellow)
        strangers.append(stranger)
    merged = [s["merged"] for s in scores]
    people_f = [s["people_f"] for s in scores]
    print(f"strangers per draw {np.mean([s['strangers'] for s in scores]):.1f}: merged {np.mean(merged):.3f} "
          f"mean / {max(merged):.3f} worst; characters kept whole: BCubed F {np.mean(people_f):.3f} mean / "
          f"{min(people_f):.3f} worst; clusters {np.mean([s['clusters'] for s in scores]):.1f} "
          f"for {np.mean([s['people'] + s['strangers'] for s in scores]):.1f} characters")  # fmt: skip
    fellow, stranger = np.concatenate(fellows), np.concatenate(strangers)
    print("distance | faces kept whole with a fellow that close | strangers with anyone that close")
    for d in DISTANCES:
        print(f"{d:.2f} | {(fellow <= d).mean():.3f} | {(stranger <= d).mean():.3f}")


if __name__ == "__main__":
    main()
