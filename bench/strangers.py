"""People seen once: fit ``auto``'s photo defaults with strangers on both sides, report held out.

    python bench/strangers.py RUN/faces.parquet [--draws 5] [--splits 5]

RUN: ``../shared/data/lfw`` extracted with the default chain (``raypipe extract``). Identities are
split by ``raypipe.evaluation.protocol`` (seed 0); on each side a share of them become strangers
(one photo each), the rest stay whole (``raypipe.evaluation.strangers``), redrawn ``--draws``
times. Every (average, lone pair, leftover) of the grid runs on the FIT side of every draw; the
rule keeps, among settings whose mean strangers merged at the issue's scale (1,000 strangers, 240
people) is at most 2%, the best mean BCubed F of the people kept whole. It is reported on the
HELD-OUT side of every draw (mean and worst), beside the previous defaults and the shipped ones.
``--splits N`` repeats the whole fit-then-report for identity-split seeds 1..N, a rule re-fitted
per split: how much the choice and its held-out figures move with the identities.

    python bench/strangers.py --run RUN

scores a user's clustered labelled run as it is: the people with one photo in it are its strangers.

    python bench/strangers.py --scenario ../shared/data/lfw OUT [--people 240]

links (symlinks) into OUT a library for ``raypipe run``: ``--people`` random people with all their
photos, every other person one random photo (seed 27).
"""

from __future__ import annotations

import argparse
import itertools
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from raypipe.cluster.auto import AutoClusterer
from raypipe.cluster.calibration import CALIBRATION
from raypipe.cluster.step import read_clusters
from raypipe.evaluation.compare import load_labelled_faces, markdown_table
from raypipe.evaluation.protocol import SPLIT_SEED
from raypipe.evaluation.strangers import (
    STRANGER_SHARE,
    merged_at_scale,
    seen_once,
    stranger_scores,
    stranger_sides,
)
from raypipe.layout import RunLayout

AVERAGE = (0.56, 0.58, 0.60, 0.62, 0.64, 0.66)
LONE_PAIR = (0.45, 0.48, 0.50, 0.52, 0.55, None)
LEFTOVER = (0.0, 0.45, 0.50, 0.55, 0.60)
#: Strangers merged (at the issue's scale) that the fit allows, as a mean over the fit draws.
MERGED_LIMIT = 0.02
#: The photo defaults before people seen once entered the fit.
PREVIOUS = (0.66, None, 0.60)
SHOWN = [
    "merged",
    "into_person",
    "unlabelled",
    "at_scale",
    "people_f",
    "all_f",
    "clusters",
    "people",
]


def run_case(case, model: str, setting: tuple) -> dict:
    """``auto`` with ``setting`` = (average, lone pair, leftover) on one side: its scores."""
    average, lone_pair, leftover = setting
    clusterer = AutoClusterer(
        model=model,
        threshold=average,
        lone_pair_distance=2.0 if lone_pair is None else lone_pair,
        leftover_distance=leftover,
        attach_leftovers=leftover > 0,
    )
    scores = stranger_scores(case, clusterer.fit(case.faces.X, groups=case.faces.groups).labels_)
    return {**scores, "at_scale": merged_at_scale(scores)}


def fit(cases: list, model: str) -> tuple[tuple, pd.DataFrame]:
    """The rule's setting on the fit ``cases``, and the mean scores of every setting of the grid."""
    rows = [
        {"setting": setting, **run_case(case, model, setting)}
        for setting in itertools.product(AVERAGE, LONE_PAIR, LEFTOVER)
        for case in cases
    ]
    grid = pd.DataFrame(rows).groupby("setting", sort=False)[SHOWN].mean()
    allowed = grid[grid["at_scale"] <= MERGED_LIMIT]
    return allowed["people_f"].idxmax(), grid


def report(cases: list, model: str, setting: tuple, name: str) -> list[dict]:
    """One row: ``setting``'s held-out mean, and the worst draw of each figure."""
    scores = pd.DataFrame([run_case(case, model, setting) for case in cases])[SHOWN]
    worst = {
        "merged": "max",
        "into_person": "max",
        "unlabelled": "max",
        "at_scale": "max",
        "people_f": "min",
        "all_f": "min",
        "clusters": "max",
        "people": "min",
    }
    return [
        {"defaults": name, "setting": setting, "of draws": "mean", **scores.mean().round(4)},
        {"defaults": name, "setting": setting, "of draws": "worst", **scores.agg(worst).round(4)},
    ]


def shipped(model: str) -> tuple:
    calibrated = CALIBRATION[model]
    return (calibrated.average, calibrated.lone_pair, calibrated.leftover)


def score_run(run: str) -> dict:
    """Strangers merged and the F of the others in the run's ``clusters.csv``."""
    layout = RunLayout.at(run)
    face_ids = pd.read_parquet(layout.faces, columns=["face_id"])["face_id"]
    clusters = read_clusters(layout).set_index("face_id")["cluster"]
    predicted = clusters.reindex(face_ids).fillna(-1).astype(int).to_numpy()
    return stranger_scores(seen_once(load_labelled_faces(layout.faces)), predicted)


def make_scenario(root: Path, out: Path, people: int, seed: int = 27) -> None:
    """``people`` folders of ``root`` linked whole into ``out``, one photo of each other folder."""
    rng = np.random.default_rng(seed)
    folders = sorted(p for p in root.iterdir() if p.is_dir())
    whole = set(rng.permutation(len(folders))[:people].tolist())
    for i, folder in enumerate(folders):
        photos = sorted(folder.iterdir())
        if i not in whole:
            photos = [photos[rng.integers(len(photos))]]
        (out / folder.name).mkdir(parents=True, exist_ok=True)
        for photo in photos:
            (out / folder.name / photo.name).symlink_to(photo.resolve())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("faces", nargs="?", help="faces.parquet of the labelled run")
    parser.add_argument("--run", help="only score this clustered run's strangers")
    parser.add_argument("--scenario", nargs=2, type=Path, metavar=("ROOT", "OUT"))
    parser.add_argument("--people", type=int, default=240, help="people kept whole (--scenario)")
    parser.add_argument("--draws", type=int, default=5, help="stranger draws per side")
    parser.add_argument("--share", type=float, default=STRANGER_SHARE, help="identities seen once")
    parser.add_argument("--splits", type=int, default=0, help="also re-fit on identity splits 1..N")
    parser.add_argument("--grid", action="store_true", help="print the fit grid's best settings")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if args.scenario:
        make_scenario(*args.scenario, args.people)
        return
    if args.run:
        print(markdown_table(pd.DataFrame([score_run(args.run)]).round(4)))
        return
    faces = load_labelled_faces(args.faces)
    sides = stranger_sides(faces, split_seed=SPLIT_SEED, draws=args.draws, share=args.share)
    chosen, grid = fit(sides["fit"], faces.model)
    print(f"fit side, split {SPLIT_SEED}, {args.draws} draws: rule picks {chosen}", flush=True)
    if args.grid:
        allowed = grid[grid["at_scale"] <= MERGED_LIMIT]
        print(allowed.sort_values("people_f", ascending=False).head(15).round(4).to_string())
    rows = []
    for name, setting in [
        ("previous", PREVIOUS),
        ("fitted", chosen),
        ("shipped", shipped(faces.model)),
    ]:
        rows += report(sides["held_out"], faces.model, setting, name)
    print(f"held-out side, split {SPLIT_SEED}:")
    print(markdown_table(pd.DataFrame(rows)), flush=True)
    for split in range(1, args.splits + 1):
        sides = stranger_sides(faces, split_seed=split, draws=args.draws, share=args.share)
        picked, _ = fit(sides["fit"], faces.model)
        held = report(sides["held_out"], faces.model, picked, f"split {split} fitted")
        print(markdown_table(pd.DataFrame(held)), flush=True)


if __name__ == "__main__":
    main()
