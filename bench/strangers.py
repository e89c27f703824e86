"""People seen once: fit ``auto``'s photo defaults with strangers on both sides, report held out.

    python bench/strangers.py RUN/faces.parquet [--draws 5] [--splits 5]

RUN: ``../shared/data/lfw`` extracted with the default chain (``raypipe extract``). Identities are
split by ``raypipe.evaluation.protocol`` (seed 0); on each side a share of them become strangers
(one photo each), the rest stay whole (``raypipe.evaluation.strangers``), redrawn ``--draws``
times. Every (average, lone pair, leftover, member) of the grid runs on the FIT side of every
draw, and a rule picks in two stages: without a member limit, among settings whose mean strangers
merged at the issue's scale (1,000 strangers, 240 people) is at most 2%, the best mean BCubed F of
the people kept whole; then, with that average and lone pair, the leftover and member distances
that merge the fewest strangers at scale for a people F no lower. Both are reported on the
HELD-OUT side of every draw (mean and worst), beside the previous defaults, the best F of the
whole grid under the 2% limit, and the shipped ones. ``--splits N`` repeats the fit-then-report
for identity-split seeds 1..N, the rule re-fitted per split: how much the choice and its held-out
figures move with the identities.

    python bench/strangers.py --run RUN

scores a user's clustered labelled run as it is: the people with one photo in it are its strangers.

    python bench/strangers.py --scenario ../shared/data/lfw OUT [--people 240]

links (symlinks) into OUT a library for ``raypipe run``: ``--people`` random people with all their
photos, every other person one random photo (seed 27).

    python bench/strangers.py RUN/faces.parquet --held-out-run OUT [--draw D] [--share 0.5]

writes OUT, a run folder of the HELD-OUT half's stranger draw ``D`` (identity split seed 0, never
fitted on) for ``raypipe cluster OUT``: the rows of RUN's faces and images tables of those photos
(no config: clustering takes the defaults). Extraction works photo by photo, so these are the
rows ``raypipe run`` writes for those photos alone (checked: the CLI scenario's 1,975 faces
equal RUN's, bit for bit).
"""

from __future__ import annotations

import argparse
import itertools
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from raypipe import storage
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

AVERAGE = (0.60, 0.62, 0.64, 0.66)
LONE_PAIR = (0.50, 0.52, 0.55, None)
LEFTOVER = (0.50, 0.55, 0.60)
MEMBER = (0.50, 0.52, 0.54, 0.56, None)
#: Strangers merged (at the issue's scale) that the fit allows, as a mean over the fit draws.
MERGED_LIMIT = 0.02
#: The photo defaults before people seen once entered the fit.
PREVIOUS = (0.66, None, 0.60, None)
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
    """``auto`` with ``setting`` = (average, lone pair, leftover, member) on one side: its scores."""
    average, lone_pair, leftover, member = setting
    clusterer = AutoClusterer(
        model=model,
        threshold=average,
        lone_pair_distance=2.0 if lone_pair is None else lone_pair,
        leftover_distance=leftover,
        attach_leftovers=leftover > 0,
        member_distance=2.0 if member is None else member,
    )
    scores = stranger_scores(case, clusterer.fit(case.faces.X, groups=case.faces.groups).labels_)
    return {**scores, "at_scale": merged_at_scale(scores)}


def fit(cases: list, model: str) -> tuple[tuple, tuple, pd.DataFrame]:
    """The rule's setting on the fit ``cases``, its first stage (no member limit), and the mean
    scores of every setting of the grid."""
    rows = [
        {"setting": setting, **run_case(case, model, setting)}
        for setting in itertools.product(AVERAGE, LONE_PAIR, LEFTOVER, MEMBER)
        for case in cases
    ]
    grid = pd.DataFrame(rows).groupby("setting", sort=False)[SHOWN].mean()
    unlimited = best_f(grid[[setting[3] is None for setting in grid.index]])
    return fewest_merges(grid, unlimited), unlimited, grid


def best_f(grid: pd.DataFrame) -> tuple:
    """The best mean people F among settings merging at most 2% at the issue's scale."""
    allowed = grid[grid["at_scale"] <= MERGED_LIMIT]
    return allowed["people_f"].idxmax()


def fewest_merges(grid: pd.DataFrame, base: tuple) -> tuple:
    """With ``base``'s average and lone pair, the fewest merged at scale for a people F no lower
    than ``base``'s (ties: the better F)."""
    same = np.array([setting[:2] == base[:2] for setting in grid.index])
    allowed = grid[same & (grid["people_f"] >= grid.loc[[base], "people_f"].iloc[0])]
    return allowed.sort_values(["at_scale", "people_f"], ascending=[True, False]).index[0]


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
    return (calibrated.average, calibrated.lone_pair, calibrated.leftover, calibrated.member)


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


def make_held_out_run(faces_parquet: Path, out: Path, draw: int, share: float) -> None:
    """``out``: a run folder of the photos of the held-out half's stranger draw ``draw``."""
    faces = load_labelled_faces(faces_parquet)
    sides = stranger_sides(faces, split_seed=SPLIT_SEED, draws=draw + 1, share=share)
    images = pa.array(sorted(set(sides["held_out"][draw].faces.groups.tolist())))
    source, target = RunLayout.at(faces_parquet.parent), RunLayout.at(out)
    for table in ("faces", "images"):
        rows = source.read_table(table)
        storage.write_table(getattr(target, table), rows.filter(pc.is_in(rows["image_id"], images)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("faces", nargs="?", help="faces.parquet of the labelled run")
    parser.add_argument("--run", help="only score this clustered run's strangers")
    parser.add_argument("--scenario", nargs=2, type=Path, metavar=("ROOT", "OUT"))
    parser.add_argument("--people", type=int, default=240, help="people kept whole (--scenario)")
    parser.add_argument("--held-out-run", type=Path, metavar="OUT", help="write a held-out run")
    parser.add_argument("--draw", type=int, default=0, help="stranger draw (--held-out-run)")
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
    if args.held_out_run:
        make_held_out_run(Path(args.faces), args.held_out_run, args.draw, args.share)
        return
    faces = load_labelled_faces(args.faces)
    sides = stranger_sides(faces, split_seed=SPLIT_SEED, draws=args.draws, share=args.share)
    chosen, unlimited, grid = fit(sides["fit"], faces.model)
    print(f"fit side, split {SPLIT_SEED}, {args.draws} draws: rule picks {chosen}", flush=True)
    print("fit side means: the rule, its first stage, the best F of the whole grid")
    print(grid.loc[[chosen, unlimited, best_f(grid)]].round(4).to_string())
    if args.grid:
        allowed = grid[grid["at_scale"] <= MERGED_LIMIT]
        print(allowed.sort_values("people_f", ascending=False).head(15).round(4).to_string())
    rows = []
    for name, setting in [
        ("previous", PREVIOUS),
        ("fitted", chosen),
        ("first stage (no member limit)", unlimited),
        ("best F, member limit free", best_f(grid)),
        ("shipped", shipped(faces.model)),
    ]:
        rows += report(sides["held_out"], faces.model, setting, name)
    print(f"held-out side, split {SPLIT_SEED}:")
    print(markdown_table(pd.DataFrame(rows)), flush=True)
    for split in range(1, args.splits + 1):
        sides = stranger_sides(faces, split_seed=split, draws=args.draws, share=args.share)
        picked, unlimited, _ = fit(sides["fit"], faces.model)
        held = report(sides["held_out"], faces.model, picked, f"split {split} fitted")
        held += report(sides["held_out"], faces.model, unlimited, f"split {split} first stage")
        print(markdown_table(pd.DataFrame(held)), flush=True)


if __name__ == "__main__":
    main()
