"""Comic mode on composed pages and on real anime illustrations; prints the figures.

Not every figure is of the comic defaults: the panel figures are the rules'
(:func:`raypipe.comic.panels.extract_panels`; the hybrid default is scored by
``bench/manga_pages.py``), faces are found by the LBP cascade, not by ``drawn-faces``
(``bench/drawn_faces_detect.py`` scores both). The shipped drawn-face identity head was fitted
on ``anime_fanart`` only, so no ``anime`` character was seen by it (its protocol:
``bench/drawn_protocol.py``). docs/manga-pages.md quotes its balloon and reading-order figures.

Figures:
  * panels (rules): recall / precision at IoU >= 0.5, and pages read in the right order
    (left-to-right pages and right-to-left manga pages),
  * balloons: recall / precision at IoU >= 0.5, and the share of lettering ink left after masking,
  * drawn faces (anime-cascade in the panel crops, mapped to the page): recall / precision, a
    detection counting when its centre falls in a pasted character crop (one per crop), with and
    without masking the lettering,
  * characters: the matched faces embedded as a comic run embeds them (the default drawn-face
    encoder): NMI of k-means told the true number of characters, BCubed F and the number of
    clusters of the default clusterer without k,
  * faces found per image of ../shared/data/anime_pages and seconds per page.

Pages are composed at run time from the held-out half of ../shared/data/anime (the characters
bench/comic_tune.py did not tune the cascade on; the project ships no anime images), or with
``--characters fit`` from the half settings are chosen on (the chip context was chosen so).

    python bench/comic_eval.py --pages 60 --seed 0 --model-root ~/.raypipe/models
    python bench/comic_eval.py --characters fit --pages 30 --seed 5 --context 0.15   # choosing it
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import cv2
import numpy as np

from raypipe.cluster import CLUSTERERS
from raypipe.comic.panels import extract_panels
from raypipe.comic.split import detect_in_panels, split_page
from raypipe.comic.text import detect_balloons
from raypipe.detect import DETECTORS, Detector
from raypipe.detect.base import Face
from raypipe.embed import EMBEDDERS
from raypipe.embed.select import drawn_embedder
from raypipe.evaluation.comic import box_scores, centre_scores, in_reading_order, matched_labels
from raypipe.evaluation.metrics import score_clustering
from raypipe.testing.comic_pages import ComicPage, compose_pages, load_characters, split_characters

SHARED = Path(__file__).resolve().parents[2] / "shared"
log = logging.getLogger("comic_eval")


def panel_figures(pages: list[ComicPage], right_to_left: bool) -> dict[str, float]:
    predicted = [[p.box for p in extract_panels(page.image, right_to_left)] for page in pages]
    scores = box_scores(predicted, [page.panels for page in pages])
    ordered = [in_reading_order(pred, page.panels) for pred, page in zip(predicted, pages)]
    return {
        "recall": scores["recall"],
        "precision": scores["precision"],
        "ordered": float(np.mean(ordered)),
    }


def ink_left(pages: list[ComicPage]) -> float:
    """Dark pixels left in the true balloons of the masked panel crops, over those before."""
    before = after = 0
    for page in pages:
        for crop in split_page(page.image, text_mode="mask"):
            for x1, y1, x2, y2 in page.texts:
                cx1, cy1, cx2, cy2 = crop.box
                if x1 >= cx1 and y1 >= cy1 and x2 <= cx2 and y2 <= cy2:
                    before += int((page.image[y1:y2, x1:x2].max(axis=2) < 100).sum())
                    region = crop.image[y1 - cy1 : y2 - cy1, x1 - cx1 : x2 - cx1]
                    after += int((region.max(axis=2) < 100).sum())
    return after / max(before, 1)


def face_figures(
    pages: list[ComicPage], detector: Detector, text_mode: str
) -> tuple[dict, list[list]]:
    found = [
        [
            face.box
            for _, face in detect_in_panels(split_page(page.image, text_mode=text_mode), detector)
        ]
        for page in pages
    ]
    return centre_scores(found, [page.faces for page in pages]), found


def character_figures(pages: list[ComicPage], found: list[list], embedder_spec: dict) -> dict[str, float]:
    """Embed the detected faces that match a true face as a comic run does (the default drawn-face
    embedder), cluster them with k-means told the true k and with the default clusterer (no k)."""
    embedder = EMBEDDERS.build(embedder_spec)
    chips, labels = [], []
    for page, boxes in zip(pages, found):
        for box, label in zip(boxes, matched_labels(boxes, page.faces, page.characters)):
            if label is not None:
                chips.append(embedder.align(page.image, Face(tuple(box), 1.0)))
                labels.append(label)
    X = embedder.embed(np.stack(chips))
    with_k = CLUSTERERS.build({"name": "kmeans", "n_clusters": len(set(labels)), "n_init": 10}).fit(X).labels_
    without_k = CLUSTERERS.build({"name": "auto", "model": embedder.model_name}).fit(X).labels_
    return {"faces": len(labels), "embedder": embedder.model_name, "nmi": score_clustering(labels, with_k)["nmi"],
            "bcubed_f": score_clustering(labels, without_k)["bcubed_f"], "clusters": len(set(without_k))}  # fmt: skip


def anime_page_counts(detector: Detector) -> list[tuple[str, int, float]]:
    rows = []
    for path in sorted((SHARED / "data" / "anime_pages").glob("*.jpg")):
        rgb = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
        start = time.perf_counter()
        rows.append((path.name, len(detector.detect(rgb)), time.perf_counter() - start))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pages", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cascade", default=str(SHARED / "models" / "lbpcascade_animeface.xml"))
    parser.add_argument("--model-root", help="folder with the drawn-face backbone (raypipe models fetch)")
    parser.add_argument("--characters", choices=["held-out", "fit"], default="held-out",
                        help="compose pages of the held-out characters, or of those settings are fitted on")
    parser.add_argument("--context", type=float, help="drawn-face embedder's context (to choose it on fit characters)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    characters = split_characters(load_characters(SHARED / "data" / "anime"))[args.characters == "held-out"]
    pages = compose_pages(characters, args.pages, seed=args.seed)
    manga = compose_pages(characters, args.pages, seed=args.seed + 1, right_to_left=True)
    detector = DETECTORS.build({"name": "anime-cascade", "cascade_path": args.cascade})

    print(f"## Comic mode on {args.pages} composed pages (seed {args.seed}) of {args.characters} characters")
    print(f"(and {args.pages} right-to-left pages)\n\n| figure | value |\n|---|---|")
    for name, subset, rtl in (("panels", pages, False), ("manga panels (RTL)", manga, True)):
        fig = panel_figures(subset, rtl)
        _row(
            f"{name}: recall / precision @0.5, pages in reading order",
            f"{_pair(fig)}, {fig['ordered']:.3f}",
        )
    truth = [page.texts for page in pages]
    texts = box_scores([detect_balloons(page.image) for page in pages], truth)
    _row("balloons: recall / precision @0.5", _pair(texts))
    _row("lettering ink left after masking", f"{ink_left(pages):.3f}")
    start = time.perf_counter()
    masked, found = face_figures(pages, detector, text_mode="mask")
    seconds = (time.perf_counter() - start) / len(pages)
    unmasked, _ = face_figures(pages, detector, text_mode="none")
    n_faces = masked["true_positives"] + masked["false_negatives"]
    _row("faces (text masked): recall / precision, centre in crop", f"{_pair(masked)} ({n_faces} faces)")
    _row("faces (text not masked): recall / precision, centre in crop", _pair(unmasked))
    _row("split + detect, seconds per page", f"{seconds:.2f}")
    spec = drawn_embedder(args.model_root)
    chars = character_figures(pages, found, {**spec, "context": args.context} if args.context is not None else spec)
    _row(
        f"characters of the {chars['faces']} faces found ({chars['embedder']}): NMI with k-means told "
        "the true k; BCubed F and clusters of the default clusterer (no k)",
        f"{chars['nmi']:.3f}; {chars['bcubed_f']:.3f}, {chars['clusters']}",
    )
    print("\n## anime-cascade on ../shared/data/anime_pages\n")
    print("| image | faces | seconds |\n|---|---|---|")
    for name, count, secs in anime_page_counts(detector):
        print(f"| {name} | {count} | {secs:.2f} |")


def _row(name: str, value: str) -> None:
    print(f"| {name} | {value} |")


def _pair(scores: dict[str, float]) -> str:
    return f"{scores['recall']:.3f} / {scores['precision']:.3f}"


if __name__ == "__main__":
    main()
