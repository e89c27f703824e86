"""Choose the page model and the panel settings on synthetic VALIDATION pages only.

Validation pages are synthetic pages of irregular layouts (:mod:`raypipe.testing.manga_layouts`,
every layout in turn) whose art is the validation fifth of the trainable drawn crops
(``anime_fanart/``, ``anime_unlabelled/``: no training page shows it), drawn with their own seed.
No real page is read. Each weights file, method and setting is scored (panels, IoU 0.5) and the
one whose WORSE of recall and precision is highest is chosen (ties: F1). Every setting is also
scored with a blank check (:func:`drop_blank`: a found panel that shows nothing is a page
margin); its level for ``learned cut 0.5 min_area 0.03`` is the one of highest precision losing
at most 0.005 recall. Real titles are then only reported (``bench/manga_pages.py``).

    nice -n 10 python bench/page_validation.py --pages 60 --weights A.npz B.npz
"""

from __future__ import annotations

import argparse
from itertools import product
from pathlib import Path

import cv2
import numpy as np
import torch

from bench.train_page_model import ART, DATA, art_images
from raypipe.comic.page_model import (
    load_net,
    panel_boxes,
    predict_maps,
    refined_panels,
)
from raypipe.comic.panels import extract_panels
from raypipe.comic.slivers import join_slivers
from raypipe.comic.text import detect_balloons
from raypipe.evaluation.comic import box_scores
from raypipe.testing.manga_layouts import LAYOUTS, compose_page

TONE_STEP = 48  # grey levels from a box's median that make a pixel "something drawn"
INNER = 0.15  # share of a box's width and height left out on each side when checking it
VALIDATION_SEED = 4242  # training pages use seeds 0 and 1, the synthetic benchmark 2026
CUTS = (0.5, 0.6, 0.7)
MIN_AREAS = (0.03, 0.05)
BLANKS = (0.0, 0.005, 0.01, 0.02, 0.04)  # least drawn share of a kept panel (0: no check)
# joins of pieces (raypipe/comic/slivers.py): widest piece joined, as a share of its neighbour's
# width (0: none); lengths a seam is looked at in for a gutter; how far past its ends; widest
# piece joined when one frame runs across the seam at both ends; and then even over a pale column;
# how far the frame must run straight past the seam (share of the page's width)
JOINS = ((0.0, 1, 0.0), (0.3, 1, 0.0), (0.5, 1, 0.0), (1.0, 1, 0.0), (0.3, 4, 0.0), (0.5, 4, 0.0),
         (1.0, 4, 0.0), (0.7, 4, 0.0), (0.5, 4, 0.02), (0.7, 4, 0.02), (0.5, 4, 0.0, 0.7),
         (0.5, 4, 0.0, 1.0), (0.5, 4, 0.0, 0.7, True), (0.5, 4, 0.0, 1.0, True),
         (0.5, 4, 0.0, 0.7, False, 0.05), (0.5, 4, 0.0, 1.0, False, 0.05), (0.5, 4, 0.0, 0.7, True, 0.05),
         (0.5, 4, 0.0, 1.0, True, 0.05))


def validation_pages(
    count: int, seed: int = VALIDATION_SEED, straight_art: float = 0.0, fragment_art: float = 0.0
) -> list:
    """``count`` synthetic pages drawn with validation art, the layouts in turn."""
    rng = np.random.default_rng(seed)
    art = art_images([DATA / name for name in ART], 200, rng, part="validation")
    return [compose_page(art, rng, LAYOUTS[n % len(LAYOUTS)],
                         straight_art=straight_art, fragment_art=fragment_art)
            for n in range(count)]


def drawn_share(grey: np.ndarray, box: tuple[int, int, int, int]) -> float:
    """Share of the middle of ``box`` (less ``INNER`` of its size on each side, so that a
    neighbour's frame the box was grown over does not count) that differs from its median
    grey by more than ``TONE_STEP``: near 0 for a blank (or black) page margin."""
    x1, y1, x2, y2 = box
    dx, dy = round(INNER * (x2 - x1)), round(INNER * (y2 - y1))
    middle = grey[y1 + dy : max(y2 - dy, y1 + dy + 1), x1 + dx : max(x2 - dx, x1 + dx + 1)]
    if not middle.size:
        return 0.0
    return float((np.abs(middle.astype(np.int16) - int(np.median(middle))) > TONE_STEP).mean())


def drop_blank(boxes: list, grey: np.ndarray, least: float) -> list:
    """``boxes`` less those whose middle is nearly one flat tone (under ``least`` drawn)."""
    return [box for box in boxes if drawn_share(grey, box) >= least]


def candidates(rgb: np.ndarray, classes: np.ndarray, rules: list) -> dict[str, list]:
    """{setting name: panel boxes} of the model alone and of the hybrid, every setting, each
    with pieces joined at every ``JOINS`` level (:func:`join_slivers`), then blank panels
    dropped at every ``BLANKS`` level."""
    found = {}
    for cut, min_area in product(CUTS, MIN_AREAS):
        found[f"learned cut {cut} min_area {min_area}"] = panel_boxes(classes, rgb.shape[:2], min_area, cut)
        for missed in (True, False):
            found[f"hybrid cut {cut} min_area {min_area} missed {missed}"] = refined_panels(
                classes, rules, rgb.shape[:2], cut, min_area, missed
            )
    grey = rgb[:, :, 0]
    joined = {f"{name} {join_name(*join)}": join_slivers(boxes, grey, *join) if join[0] else boxes
              for name, boxes in found.items() for join in JOINS}
    return {f"{name} blank {least}": drop_blank(boxes, grey, least) if least else boxes
            for name, boxes in joined.items() for least in BLANKS}


def join_name(thin: float, blocks: int, reach: float, framed: float = 0.0, over_gutter: bool = False,
              frame_span: float = 0.0) -> str:
    """A ``JOINS`` level's name in the printed settings: "sliver 0.5 blocks 4 framed 1.0"."""
    return (f"sliver {thin}" + (f" blocks {blocks}" if blocks > 1 else "") + (f" reach {reach}" if reach else "")
            + (f" framed {framed}" if framed else "") + (" over gutter" if over_gutter else "")
            + (f" span {frame_span}" if frame_span else ""))


def validate(pages: list, weights: list[Path]) -> dict[str, dict]:
    """{"weights: setting": scores} over ``pages``, and the rules' own scores."""
    found: dict[str, list] = {}
    nets = {path.name: load_net(path) for path in weights}
    for page in pages:
        rgb = cv2.cvtColor(page.grey, cv2.COLOR_GRAY2RGB)
        rules = [p.box for p in extract_panels(rgb, True, text_boxes=detect_balloons(rgb))]
        found.setdefault("rules", []).append(rules)
        for name, net in nets.items():
            for setting, boxes in candidates(rgb, predict_maps(rgb, net)[0], rules).items():
                found.setdefault(f"{name}: {setting}", []).append(boxes)
    truth = [page.panels for page in pages]
    return {name: box_scores(boxes, truth) for name, boxes in found.items()}


def worse_then_f1(scores: dict) -> tuple[float, float]:
    """The choosing key: the worse of recall and precision, then F1."""
    r, p = scores["recall"], scores["precision"]
    return min(r, p), 2 * r * p / max(r + p, 1e-9)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=60)
    parser.add_argument("--weights", type=Path, nargs="+", required=True)
    parser.add_argument("--straight-art", type=float, default=0.0, help="share of panels with straight lines")
    parser.add_argument("--fragment-art", type=float, default=0.0, help="share of panels with seams, tall balloons")
    args = parser.parse_args()
    torch.set_num_threads(1)
    results = validate(validation_pages(args.pages, straight_art=args.straight_art, fragment_art=args.fragment_art),
                       args.weights)
    for name, scores in sorted(results.items(), key=lambda item: worse_then_f1(item[1])):
        worse, f1 = worse_then_f1(scores)
        print(f"{name}: recall {scores['recall']:.3f} precision {scores['precision']:.3f} "
              f"worse {worse:.3f} F1 {f1:.3f}")
    print("chosen:", max(results, key=lambda name: worse_then_f1(results[name])))
    for path in args.weights:
        print(f"blank level for {path.name}, learned cut 0.5 min_area 0.03 sliver 0.0:", blank_level(results, path.name))


def blank_level(results: dict[str, dict], weights: str, setting: str = "learned cut 0.5 min_area 0.03 sliver 0.0",
                most_lost: float = 0.005) -> float:
    """The ``BLANKS`` level for ``setting`` (the default's) of ``weights``: the highest precision
    losing at most ``most_lost`` recall against no check; ties, the milder level."""
    scores = {least: results[f"{weights}: {setting} blank {least}"] for least in BLANKS}
    allowed = [least for least in BLANKS if scores[least]["recall"] >= scores[0.0]["recall"] - most_lost]
    return max(allowed, key=lambda least: (scores[least]["precision"], -least))


if __name__ == "__main__":
    main()
