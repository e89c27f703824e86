"""What the wrong panels are: each false-positive panel of a method, put in one kind.

Measurement only (the real pages are evaluation only: nothing here fits a setting). For each
page of each title (or of the synthetic validation pages, ``--validation N``), every found panel
that claims no true panel at IoU 0.5 is put in the first kind it fits:

- ``duplicate``: overlaps a true panel at IoU >= 0.5 that another found panel already claimed;
- ``merged``: holds most (>= 0.5) of two or more true panels;
- ``nested``: lies mostly (>= 0.8) inside another found panel (a box inside a box);
- ``fragment``: lies mostly (>= 0.8) inside one true panel (art, a balloon or part of a panel);
- ``misaligned``: overlaps one true panel at IoU 0.2-0.5 (a border off, a panel cut short);
- ``outside``: lies mostly (>= 0.5) outside every true panel (margin, gutter, art off panels);
- ``other``.

Missed panels are counted as ``split`` (two or more found panels lie mostly inside it),
``covered`` (a found panel holds it with others: merged) or ``lost``.

    nice -n 10 python bench/panel_errors.py                       # real titles, learned
    nice -n 10 python bench/panel_errors.py --overlays DIR        # and pictures of the pages
    nice -n 10 python bench/panel_errors.py --validation 60       # synthetic validation pages
    nice -n 10 python bench/panel_errors.py --validation 60 --fragment-art 0.3 --overlays DIR
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import torch

from bench.manga_pages import MANGA, REPORTING_TITLE, TUNING_TITLE, pages
from raypipe.comic.cuts import area
from raypipe.comic.page_model import PANEL_METHODS, WEIGHTS, find_panels, load_net
from raypipe.comic.panels import Box
from raypipe.detect.boxes import box_iou


def intersection(a: Box, b: Box) -> int:
    """Pixels two boxes share."""
    return area((max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])))


def error_kinds(found: list[Box], truth: list[Box]) -> tuple[list[str | None], list[str | None]]:
    """(kind of each found panel, None when it is a hit; kind of each true panel, None when hit)."""
    overlaps = box_iou(np.array(found, float).reshape(-1, 4), np.array(truth, float).reshape(-1, 4))
    claimed = np.zeros(len(truth), bool)
    kinds: list[str | None] = []
    for i, box in enumerate(found):
        row = np.where(claimed, -1.0, overlaps[i]) if len(truth) else np.zeros(0)
        if row.size and row.max() >= 0.5:
            claimed[int(row.argmax())] = True
            kinds.append(None)
            continue
        inside_true = [intersection(box, t) / max(area(box), 1) for t in truth]
        holds = [intersection(box, t) / max(area(t), 1) for t in truth]
        if len(truth) and overlaps[i].max() >= 0.5:
            kinds.append("duplicate")
        elif sum(h >= 0.5 for h in holds) >= 2:
            kinds.append("merged")
        elif any(intersection(box, o) >= 0.8 * area(box) for j, o in enumerate(found) if j != i):
            kinds.append("nested")
        elif inside_true and max(inside_true) >= 0.8:
            kinds.append("fragment")
        elif len(truth) and overlaps[i].max() >= 0.2:
            kinds.append("misaligned")
        elif sum(inside_true) < 0.5:
            kinds.append("outside")
        else:
            kinds.append("other")
    missed: list[str | None] = []
    for j, t in enumerate(truth):
        if claimed[j]:
            missed.append(None)
        elif sum(intersection(f, t) >= 0.8 * area(f) for f in found) >= 2:
            missed.append("split")
        elif any(intersection(f, t) >= 0.5 * area(t) for f in found):
            missed.append("covered")
        else:
            missed.append("lost")
    return kinds, missed


def draw(rgb: np.ndarray, found: list[Box], kinds: list, truth: list[Box]) -> np.ndarray:
    """The page with true panels in green, hits in blue, false positives in red (with kind)."""
    out = rgb.copy()
    for x1, y1, x2, y2 in truth:
        cv2.rectangle(out, (x1, y1), (x2, y2), (0, 200, 0), 6)
    for (x1, y1, x2, y2), kind in zip(found, kinds, strict=True):
        colour = (0, 0, 255) if kind is None else (255, 0, 0)
        cv2.rectangle(out, (x1 + 4, y1 + 4), (x2 - 4, y2 - 4), colour, 3)
        if kind:
            cv2.putText(out, kind, (x1 + 10, y1 + 40), cv2.FONT_HERSHEY_SIMPLEX, 1.2, colour, 3)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--method", default="learned", choices=PANEL_METHODS)
    parser.add_argument("--weights", type=Path, default=WEIGHTS)
    parser.add_argument("--overlays", type=Path, help="write each page's picture here")
    parser.add_argument("--validation", type=int, default=0, help="N synthetic validation pages")
    parser.add_argument("--fragment-art", type=float, default=0.0, help="validation: share of panels with seams")
    args = parser.parse_args()
    torch.set_num_threads(1)
    net = load_net(args.weights)
    if args.validation:
        from bench.page_validation import validation_pages

        sets = {"validation": [(f"v{n:03d}", cv2.cvtColor(p.grey, cv2.COLOR_GRAY2RGB), p.panels)
                               for n, p in enumerate(validation_pages(args.validation, fragment_art=args.fragment_art))]}
    else:
        sets = {t: ((p.stem, None, panels) for p, panels, _ in pages(MANGA, t))
                for t in (REPORTING_TITLE, TUNING_TITLE)}
        paths = {p.stem: p for t in sets for p, _, _ in pages(MANGA, t)}
    for title, items in sets.items():
        wrong, missed, hits = Counter(), Counter(), 0
        for name, rgb, truth in items:
            if rgb is None:
                rgb = cv2.cvtColor(cv2.imread(str(paths[name])), cv2.COLOR_BGR2RGB)
            found = [p.box for p in find_panels(rgb, True, [], args.method, net)]
            kinds, lost = error_kinds(found, truth)
            hits += kinds.count(None)
            wrong.update(k for k in kinds if k)
            missed.update(k for k in lost if k)
            if args.overlays:
                args.overlays.mkdir(parents=True, exist_ok=True)
                small = cv2.resize(draw(rgb, found, kinds, truth), None, fx=0.5, fy=0.5)
                cv2.imwrite(str(args.overlays / f"{name}.png"), cv2.cvtColor(small, cv2.COLOR_RGB2BGR))
        print(f"{title} {args.method}: hits {hits}; false positives {sum(wrong.values())} "
              f"{dict(wrong.most_common())}; missed {sum(missed.values())} {dict(missed.most_common())}")


if __name__ == "__main__":
    main()
