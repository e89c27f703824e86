"""Panels and text regions on real manga pages (../shared/data/manga_pages, OpenMantra).

Scores ``extract_panels`` and ``detect_text_regions`` against the pages' ``annotation.json``
(x/y/w/h boxes) at IoU >= 0.5, recall and precision, per title and over all titles. Settings
are tuned on the TUNING title and reported on the REPORTING title (docs/comic.md says where a choice
looked at it).
The pages are CC BY-NC 4.0: evaluation only, never copied into the project.

    nice -n 10 python bench/manga_pages.py
    nice -n 10 python bench/manga_pages.py --sweep --titles balloon_dream   # the reverse fold
    raypipe run ../shared/data/manga_pages/pages --out RUN --domain comic \
        --set comic.right_to_left=true && python bench/manga_pages.py --run RUN

``--run RUN`` scores a comic run's own output instead (``panels.parquet``, and the rows of
``texts.parquet`` of kind "lettering"): what a user of ``raypipe run`` gets.

``--sweep`` prints the text figures of each setting of the line threshold (``faint``) and the
largest balloon (``balloon_glyphs``) the defaults were chosen from: run on the tuning title it
shows the choice, on the other title the choice the reverse fold would make.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import cv2
import pandas as pd

from raypipe.comic.lettering import glyph_blocks, lettering_boxes
from raypipe.comic.panels import Box, extract_panels
from raypipe.comic.split import PageText
from raypipe.comic.text import detect_balloons
from raypipe.evaluation.comic import box_scores

MANGA = Path(__file__).resolve().parents[2] / "shared" / "data" / "manga_pages"
TUNING_TITLE, REPORTING_TITLE = "tencho_isoro", "balloon_dream"
FAINT = (110, 170, 215, 230)
BALLOON_GLYPHS = (8.0, 12.0, 16.0, 24.0, float("inf"))


def xywh_boxes(items: list[dict]) -> list[Box]:
    """Annotation boxes (x, y, w, h) as (x1, y1, x2, y2)."""
    return [(b["x"], b["y"], b["x"] + b["w"], b["y"] + b["h"]) for b in items]


def pages(root: Path, title: str) -> Iterator[tuple[Path, list[Box], list[Box]]]:
    """(page path, true panels, true text boxes) of each page of ``title``."""
    for book in json.loads((root / "annotation.json").read_text(encoding="utf-8")):
        if book["book_title"] == title:
            for page in book["pages"]:
                path = root / page["image_paths"]["ja"]
                yield path, xywh_boxes(page["frame"]), xywh_boxes(page["text"])


def score_title(root: Path, title: str) -> dict[str, dict[str, float]]:
    """Panel and text recall / precision (IoU 0.5) over the pages of ``title``."""
    found_panels, found_texts, true_panels, true_texts = [], [], [], []
    for path, panels, texts in pages(root, title):
        rgb = cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        text = PageText.find(rgb)
        found_panels.append([p.box for p in extract_panels(rgb, True, text_boxes=text.balloons)])
        found_texts.append(text.lettering)
        true_panels.append(panels)
        true_texts.append(texts)
    return {
        "panels": box_scores(found_panels, true_panels),
        "text": box_scores(found_texts, true_texts),
    }


def score_run(root: Path, run: Path, title: str) -> dict[str, dict[str, float]]:
    """Panel and text recall / precision (IoU 0.5) of the comic run ``run`` on ``title``'s pages."""
    panels = pd.read_parquet(run / "panels.parquet")
    texts = pd.read_parquet(run / "texts.parquet")
    texts = texts[texts.kind == "lettering"]
    columns = ["x1", "y1", "x2", "y2"]
    found_panels, found_texts, true_panels, true_texts = [], [], [], []
    for path, page_panels, page_texts in pages(root, title):
        found_panels.append(
            panels.loc[panels.image_path.map(_name) == path.name, columns].to_numpy()
        )
        found_texts.append(texts.loc[texts.image_path.map(_name) == path.name, columns].to_numpy())
        true_panels.append(page_panels)
        true_texts.append(page_texts)
    return {
        "panels": box_scores(found_panels, true_panels),
        "text": box_scores(found_texts, true_texts),
    }


def _name(uri: str) -> str:
    return uri.rsplit("/", 1)[-1]


def sweep_title(root: Path, title: str) -> None:
    """Text recall / precision of each ``FAINT`` x ``BALLOON_GLYPHS`` setting on ``title``."""
    found: dict[tuple[int, float], list[list[Box]]] = {}
    truth = []
    for path, _, texts in pages(root, title):
        rgb = cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        balloons = detect_balloons(rgb)
        truth.append(texts)
        for faint in FAINT:
            blocks = glyph_blocks(rgb, faint=faint)
            for most in BALLOON_GLYPHS:
                boxes = lettering_boxes(rgb, balloons, blocks, balloon_glyphs=most)
                found.setdefault((faint, most), []).append(boxes)
    for (faint, most), boxes in found.items():
        _print(f"{title} text faint {faint} balloon_glyphs {most:g}", box_scores(boxes, truth))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=MANGA)
    parser.add_argument("--titles", nargs="*", default=[TUNING_TITLE, REPORTING_TITLE])
    parser.add_argument("--sweep", action="store_true", help="text figures of each setting")
    parser.add_argument("--run", type=Path, help="score this comic run's output instead")
    args = parser.parse_args()
    if args.sweep:
        for title in args.titles:
            sweep_title(args.data, title)
        return
    totals: dict[str, Counter] = {}
    for title in args.titles:
        role = {TUNING_TITLE: "tuned on", REPORTING_TITLE: "held out"}.get(title, "other")
        scores_of = (
            score_run(args.data, args.run, title) if args.run else score_title(args.data, title)
        )
        for kind, scores in scores_of.items():
            _print(f"{title} ({role}) {kind}", scores)
            totals.setdefault(kind, Counter()).update(
                {k: scores[k] for k in ("true_positives", "false_positives", "false_negatives")}
            )
    for kind, counts in totals.items():
        tp, fp, fn = (counts[k] for k in ("true_positives", "false_positives", "false_negatives"))
        recall, precision = tp / max(tp + fn, 1), tp / max(tp + fp, 1)
        scores = {"recall": recall, "precision": precision, **counts}
        _print(f"all titles {kind}", scores)


def _print(name: str, scores: dict) -> None:
    print(
        f"{name}: recall {scores['recall']:.3f} precision {scores['precision']:.3f} "
        f"(tp {scores['true_positives']}, fp {scores['false_positives']}, "
        f"fn {scores['false_negatives']})"
    )


if __name__ == "__main__":
    main()
