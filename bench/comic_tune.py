"""Tune the anime cascade's settings on composed pages of one set of characters, report them on
pages of the other set (characters the settings never saw); prints both tables.

Truth is the whole pasted region of each character crop; a detection counts when its centre
falls inside a region, one detection per region (:func:`raypipe.evaluation.comic.centre_scores`).
Settings are ranked by F1 on the fit pages.

    python bench/comic_tune.py --pages 30 --seed 0
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

from raypipe.comic.split import detect_in_panels, split_page
from raypipe.detect import DETECTORS
from raypipe.evaluation.comic import box_scores, centre_scores
from raypipe.testing.comic_pages import ComicPage, compose_pages, load_characters, split_characters

SHARED = Path(__file__).resolve().parents[2] / "shared"
#: The cascade author's example settings (scale 1.1, 5 neighbours, equalised grey).
AUTHOR = {"scale_factor": 1.1, "min_neighbors": 5, "min_size": 24, "equalize": True}
GRID = {
    "scale_factor": (1.05, 1.1),
    "min_neighbors": (2, 3, 5, 8),
    "min_size": (24,),  # not tuned: the composer pastes no crop under 48 px, a floor real pages lack
    "equalize": (False, True),
}


def face_scores(pages: list[ComicPage], crops: list[list], settings: dict, cascade: str) -> dict:
    detector = DETECTORS.build({"name": "anime-cascade", "cascade_path": cascade, **settings})
    found = [[face.box for _, face in detect_in_panels(page_crops, detector)] for page_crops in crops]
    scores = centre_scores(found, [page.faces for page in pages])
    recall, precision = scores["recall"], scores["precision"]
    return {**scores, "f1": 2 * recall * precision / (recall + precision or 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cascade", default=str(SHARED / "models" / "lbpcascade_animeface.xml"))
    args = parser.parse_args()

    fit_chars, held_chars = split_characters(load_characters(SHARED / "data" / "anime"))
    fit = compose_pages(fit_chars, args.pages, seed=args.seed)
    held = compose_pages(held_chars, args.pages, seed=args.seed + 1)
    fit_crops = [split_page(page.image) for page in fit]
    held_crops = [split_page(page.image) for page in held]

    print(f"fit characters: {', '.join(fit_chars)}\nheld-out characters: {', '.join(held_chars)}\n")
    print(f"## fit pages ({args.pages}, seed {args.seed})\n")
    print("| settings | recall | precision | F1 |\n|---|---|---|---|")
    results = []
    for values in itertools.product(*GRID.values()):
        settings = dict(zip(GRID, values))
        scores = face_scores(fit, fit_crops, settings, args.cascade)
        results.append((scores["f1"], settings))
        print(f"| {settings} | {scores['recall']:.3f} | {scores['precision']:.3f} | {scores['f1']:.3f} |", flush=True)
    best = max(results, key=lambda result: result[0])[1]
    print(f"\n## held-out pages ({args.pages}, seed {args.seed + 1}): best fit settings {best}\n")
    print("| figure | recall / precision (/ F1) |\n|---|---|")
    for name, settings in (("faces, best fit settings", best), ("faces, nagadomi's settings", AUTHOR)):
        scores = face_scores(held, held_crops, settings, args.cascade)
        print(f"| {name} | {scores['recall']:.3f} / {scores['precision']:.3f} / {scores['f1']:.3f} |")
    panels = box_scores([[crop.box for crop in page_crops] for page_crops in held_crops], [page.panels for page in held])
    print(f"| panels @IoU 0.5 | {panels['recall']:.3f} / {panels['precision']:.3f} |")


if __name__ == "__main__":
    main()
