"""What searching the part of a page that no found panel covers costs and finds, per set.

For each page of the sets of ``drawn_faces_detect.py`` (composed pages, synthetic pages, the
real manga titles), the illustrations of ``anime_pages/`` and the bundled ``sample/comic``, as
a comic run splits it (:func:`raypipe.comic.split.split_page`, defaults): whether the uncovered
area is searched (it holds room for a face), the faces kept there, and the drawn-faces
detector's seconds on the panel crops alone (the baseline) and on the extra whole-page crop.

    python bench/comic_uncovered.py --pages 20
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from drawn_detectors import COUNTED_FACES
from drawn_faces_detect import SHARED, evaluation_sets, read_rgb

from raypipe.comic.split import detect_in_panels, split_page
from raypipe.detect import DETECTORS
from raypipe.ids import OUTSIDE_PANELS

SAMPLE = Path(__file__).resolve().parents[1] / "sample" / "comic"


class TimedDetector:
    """``detector``, each call's seconds kept in ``seconds``."""

    def __init__(self, detector):
        self.detector, self.seconds = detector, []

    def detect(self, image: np.ndarray) -> list:
        start = time.perf_counter()
        faces = self.detector.detect(image)
        self.seconds.append(time.perf_counter() - start)
        return faces


def page_figures(image: np.ndarray, detector) -> tuple[float, float, int]:
    """Detection seconds on the panel crops and on the uncovered crop (0: not searched), and
    the faces kept outside the panels."""
    crops, timed = split_page(image), TimedDetector(detector)
    outside = sum(panel == OUTSIDE_PANELS for panel, _ in detect_in_panels(crops, timed))
    searched = not crops[-1].is_panel  # detect_in_panels searches it last
    extra = timed.seconds[-1] if searched else 0.0
    return sum(timed.seconds) - extra, extra, outside


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=20, help="composed pages per set")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    detector = DETECTORS.build("drawn-faces")
    sets = {name: images for name, (images, _) in evaluation_sets(args.pages, args.seed).items()}
    sets["anime_pages illustrations"] = [read_rgb(SHARED / "data" / "anime_pages" / n) for n in sorted(COUNTED_FACES)]
    sets["sample/comic"] = [read_rgb(path) for path in sorted(SAMPLE.glob("*.jpg"))]
    print("| set | pages | searched outside panels | faces kept outside | detect s/page, panels (median) | extra s/page (median of searched) | extra / panels (total) |")
    print("|---|---|---|---|---|---|---|")
    for name, images in sets.items():
        rows = np.array([page_figures(image, detector) for image in images])
        searched = rows[:, 1] > 0
        extra = float(np.median(rows[searched, 1])) if searched.any() else 0.0
        print(f"| {name} | {len(images)} | {int(searched.sum())} | {int(rows[:, 2].sum())} "
              f"| {np.median(rows[:, 0]):.2f} | {extra:.2f} | {rows[:, 1].sum() / rows[:, 0].sum():.2f} |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
