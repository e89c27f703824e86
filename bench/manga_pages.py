"""Panels and text regions on real manga pages (../shared/data/manga_pages, OpenMantra).

Scores each way of finding panels (``rules``: :func:`extract_panels`; ``learned``: the page model
of :mod:`raypipe.comic.page_model`; ``hybrid``: the rules' panels cut and completed by the
model) and the lettering (``rules``: :func:`detect_text_regions`, also the hybrid's; ``learned``:
the model's) against the pages' ``annotation.json`` (x/y/w/h boxes) at IoU >= 0.5, recall and
precision, per title. The rules were tuned on the TUNING title; the shipped page model was
trained on synthetic pages only (its manifest says so), so both titles are held out from it.
The pages are CC BY-NC 4.0: evaluation only, never copied into the project.

    nice -n 10 python bench/manga_pages.py              # rules, shipped model, hybrid
    nice -n 10 python bench/manga_pages.py --weights W.npz  # another page model
    nice -n 10 python bench/manga_pages.py --join 0.5 4 0 1.0 0 0.05  # and the model's pieces joined so
    nice -n 10 python bench/manga_pages.py --folds DIR  # leave-one-title-out, mean and worst
    nice -n 10 python bench/manga_pages.py --synthetic 50  # held-out irregular layouts
    nice -n 10 python bench/manga_pages.py --timing 10     # seconds a page against the rules
    nice -n 10 python bench/manga_pages.py --sweep --titles balloon_dream   # the reverse fold
    raypipe run ../shared/data/manga_pages/pages --out RUN --domain comic \
        --set comic.right_to_left=true && python bench/manga_pages.py --run RUN

``--folds DIR`` scores each title with the page model fitted on the other titles
(``DIR/fit_<titles>.npz``, written by ``bench/train_page_model.py``). ``--synthetic N`` scores
the shipped model on N synthetic pages of irregular layouts drawn with art and a seed no
training page used, per layout.

``--run RUN`` scores a comic run's own output instead (``panels.parquet``, the rows of
``texts.parquet`` of kind "lettering", and the faces of ``faces.parquet`` against the faces boxed
by eye in ``bench/data/manga_faces.json``, a face found when a box's centre falls in it, one box
a face): what a user of ``raypipe run`` gets.

``--sweep`` prints the text figures of each setting of the line threshold (``faint``) and the
largest balloon (``balloon_glyphs``) the defaults were chosen from: run on the tuning title it
shows the choice, on the other title the choice the reverse fold would make.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterator
from itertools import islice
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import torch

from raypipe.comic.lettering import glyph_blocks, lettering_boxes
from raypipe.comic.page_model import (
    WEIGHTS,
    PageNet,
    find_panels,
    learned_lettering,
    learned_panels,
    load_net,
    panel_boxes,
    predict_maps,
    refined_panels,
    training_manifest,
)
from raypipe.comic.panels import Box, extract_panels
from raypipe.comic.slivers import join_slivers
from raypipe.comic.split import PageText
from raypipe.comic.text import detect_balloons
from raypipe.evaluation.comic import box_scores, centre_scores
from raypipe.testing.manga_layouts import LAYOUTS, compose_page

MANGA = Path(__file__).resolve().parents[2] / "shared" / "data" / "manga_pages"
TUNING_TITLE, REPORTING_TITLE = "tencho_isoro", "balloon_dream"
FAINT = (110, 170, 215, 230)
BALLOON_GLYPHS = (8.0, 12.0, 16.0, 24.0, float("inf"))
SYNTHETIC_SEED = 2026  # the training pages use seed 0 and other art
MANGA_FACES = Path(__file__).parent / "data" / "manga_faces.json"


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


def score_title(
    root: Path, title: str, net: PageNet | None = None, join: tuple | None = None
) -> dict[str, dict[str, dict[str, float]]]:
    """Panel and text recall / precision (IoU 0.5) over the pages of ``title``, per method: the
    rules alone, and with ``net`` (the learned page model) also the model alone and the hybrid,
    and with ``join`` the model's pieces joined at those levels (:func:`join_slivers`)."""
    found: dict[str, dict[str, list]] = {}
    truth: dict[str, list] = {"panels": [], "text": []}
    for path, panels, texts in pages(root, title):
        rgb = cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        for method, boxes in page_boxes(rgb, net, join).items():
            for kind, kind_boxes in boxes.items():
                found.setdefault(method, {}).setdefault(kind, []).append(kind_boxes)
        truth["panels"].append(panels)
        truth["text"].append(texts)
    return {
        method: {kind: box_scores(boxes, truth[kind]) for kind, boxes in kinds.items()}
        for method, kinds in found.items()
    }


def page_boxes(
    rgb: np.ndarray, net: PageNet | None, join: tuple | None = None
) -> dict[str, dict[str, list[Box]]]:
    """{method: {"panels": boxes, "text": lettering boxes}} of a manga page (right to left)."""
    text = PageText.find(rgb)
    rules = [p.box for p in extract_panels(rgb, True, text_boxes=text.balloons)]
    methods = {"rules": {"panels": rules, "text": text.lettering}}
    if net is not None:
        classes, lettering = predict_maps(rgb, net)
        methods["learned"] = {
            "panels": learned_panels(rgb, classes),
            "text": learned_lettering(lettering, rgb.shape[:2]),
        }
        methods["hybrid"] = {
            "panels": refined_panels(classes, rules, rgb.shape[:2]),
            "text": text.lettering,
        }
        if join:
            grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
            methods["learned join " + " ".join(map(str, join))] = {
                "panels": join_slivers(panel_boxes(classes, rgb.shape[:2]), grey, *join),
                "text": methods["learned"]["text"],
            }
    return methods


def score_run(root: Path, run: Path, title: str) -> dict[str, dict[str, float]]:
    """Panel and text recall / precision (IoU 0.5), and face recall / precision (a box's centre
    in a face boxed by eye), of the comic run ``run`` on ``title``'s pages."""
    texts = pd.read_parquet(run / "texts.parquet")
    tables = {"panels": pd.read_parquet(run / "panels.parquet"), "text": texts[texts.kind == "lettering"],
              "faces": pd.read_parquet(run / "faces.parquet")}  # fmt: skip
    boxed_faces = json.loads(MANGA_FACES.read_text())["pages"]
    found: dict[str, list] = {kind: [] for kind in tables}
    truth: dict[str, list] = {kind: [] for kind in tables}
    for path, page_panels, page_texts in pages(root, title):
        for kind, table in tables.items():
            found[kind].append(table.loc[table.image_path.map(_name) == path.name, ["x1", "y1", "x2", "y2"]].to_numpy())
        for kind, boxes in [("panels", page_panels), ("text", page_texts), ("faces", boxed_faces[path.stem])]:
            truth[kind].append(boxes)
    return {
        "panels": box_scores(found["panels"], truth["panels"]),
        "text": box_scores(found["text"], truth["text"]),
        "faces": centre_scores(found["faces"], truth["faces"]),
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


def synthetic_scores(net: PageNet, count: int, seed: int = SYNTHETIC_SEED) -> dict:
    """{layout or "all": {method: {kind: scores}}} on ``count`` synthetic pages (the layouts in
    turn) drawn from art no training page used (``anime/`` crops, ``anime_pages/``)."""
    rng = np.random.default_rng(seed)
    folders = [MANGA.parent / "anime", MANGA.parent / "anime_pages"]
    files = sorted(p for f in folders for p in f.rglob("*") if p.suffix.lower() in {".jpg", ".png"})
    chosen = rng.choice(len(files), 200, replace=False)
    art = [cv2.imread(str(files[i]), cv2.IMREAD_GRAYSCALE) for i in chosen]
    found: dict[tuple[str, str, str], list] = {}
    for n in range(count):
        layout = LAYOUTS[n % len(LAYOUTS)]
        page = compose_page(art, rng, layout)
        truth = {"panels": page.panels, "text": page.lettering}
        for method, boxes in page_boxes(cv2.cvtColor(page.grey, cv2.COLOR_GRAY2RGB), net).items():
            for kind, kind_boxes in boxes.items():
                for group in (layout, "all"):
                    found.setdefault((group, method, kind), []).append((kind_boxes, truth[kind]))
    return {key: box_scores(*zip(*pairs)) for key, pairs in found.items()}


def timing(root: Path, titles: list[str], count: int) -> None:
    """Median seconds a page of the rules, the learned model (the default) and the hybrid, on
    ``count`` pages of each title, one thread; the rules are the baseline."""
    seconds: dict[str, list[float]] = {"rules": [], "learned": [], "hybrid": []}
    for title in titles:
        for path, _, _ in islice(pages(root, title), count):
            rgb = cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
            predict_maps(rgb)  # loads the weights once
            for name, spent in seconds.items():
                started = time.perf_counter()
                find_panels(rgb, True, [], name)
                spent.append(time.perf_counter() - started)
    base = np.median(seconds["rules"])
    for name, values in seconds.items():
        print(f"{name}: median {np.median(values):.3f} s a page ({np.median(values) / base:.2f} x rules)")


def fold_net(folds: Path, title: str, titles: list[str]) -> PageNet:
    """The page model fitted on every title but ``title`` (``folds/fit_<others>.npz``)."""
    return load_net(folds / f"fit_{'+'.join(sorted(t for t in titles if t != title))}.npz")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=MANGA)
    parser.add_argument("--titles", nargs="*", default=[TUNING_TITLE, REPORTING_TITLE])
    parser.add_argument("--sweep", action="store_true", help="text figures of each setting")
    parser.add_argument("--run", type=Path, help="score this comic run's output instead")
    parser.add_argument("--folds", type=Path, help="leave-one-title-out: fit_<titles>.npz here")
    parser.add_argument("--weights", type=Path, default=WEIGHTS, help="the page model to score")
    parser.add_argument("--synthetic", type=int, default=0, help="score N held-out synthetic pages")
    parser.add_argument("--timing", type=int, default=0, help="time N pages of each title")
    parser.add_argument("--join", nargs=6, type=float, metavar=("THIN", "BLOCKS", "REACH", "FRAMED", "OVER", "SPAN"),
                        help="also score the model's pieces joined at these levels (join_slivers)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.sweep:
        for title in args.titles:
            sweep_title(args.data, title)
        return
    if args.timing:
        timing(args.data, args.titles, args.timing)
        return
    if args.synthetic:
        for (layout, method, kind), scores in synthetic_scores(load_net(args.weights), args.synthetic).items():
            _print(f"synthetic {layout} {method} {kind}", scores)
        return
    per_title: dict[str, dict] = {}
    for title in args.titles:
        if args.run:
            per_title[title] = {"run": score_run(args.data, args.run, title)}
            continue
        net = fold_net(args.folds, title, args.titles) if args.folds else load_net(args.weights)
        join = args.join and (args.join[0], int(args.join[1]), args.join[2], args.join[3], bool(args.join[4]),
                              args.join[5])
        per_title[title] = score_title(args.data, title, net, join)
    fitted = [] if args.folds else training_manifest(args.weights).get("real_titles", [])
    for title, methods in per_title.items():
        for method, kinds in methods.items():
            for kind, scores in kinds.items():
                _print(f"{title} ({_role(title, method, title in fitted)}) {method} {kind}", scores)
    for method, kinds in next(iter(per_title.values())).items():
        for kind in kinds:
            for stat in ("recall", "precision"):
                values = [per_title[t][method][kind][stat] for t in per_title]
                print(f"{method} {kind} {stat}: mean {np.mean(values):.3f} worst {min(values):.3f}")


def _role(title: str, method: str, model_fitted: bool) -> str:
    """Whether ``title`` is held out from what produced ``method``'s boxes (the rules were tuned
    on the TUNING title; ``model_fitted``: the page model's manifest names the title)."""
    model = "model fitted on it" if model_fitted else "model held out"
    rules = "rules tuned on it" if title == TUNING_TITLE else "rules held out"
    return rules if method == "rules" else model if method.startswith("learned") else f"{model}, {rules}"


def _print(name: str, scores: dict) -> None:
    print(
        f"{name}: recall {scores['recall']:.3f} precision {scores['precision']:.3f} "
        f"(tp {scores['true_positives']}, fp {scores['false_positives']}, "
        f"fn {scores['false_negatives']})"
    )


if __name__ == "__main__":
    main()
