"""Drawn-face detectors side by side, on truth that none of them made; prints two tables.

* Composed pages of the held-out characters (``raypipe.testing.comic_pages``: the truth is each
  whole pasted character crop): recall / precision, a detection counting when its centre falls
  in a crop, one per crop. Every detector sees whole pages, so that only the detector differs.
* The illustrations of ``../shared/data/anime_pages``: the faces a person counted by looking at
  each image (:data:`COUNTED_FACES`) against the number each detector finds.

Detectors: the LBP cascade with raypipe's settings and with its author's, the cascade on the
image upscaled 2x (small faces), on the image padded by 10% (faces cut by the border), and
nagadomi's ``animeface`` (``--animeface-python``: an interpreter with ``animeface`` and
Pillow < 12, which raypipe's own environment cannot hold), alone and united with the cascade.

    python bench/drawn_detectors.py --pages 20 --animeface-python /opt/animeface/bin/python
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from raypipe.detect import DETECTORS
from raypipe.evaluation.comic import centre_scores
from raypipe.testing.comic_pages import compose_pages, load_characters, split_characters

SHARED = Path(__file__).resolve().parents[2] / "shared"
#: Faces counted by a person in each image of ../shared/data/anime_pages (every drawn human face,
#: small or turned; a mascot animal is not counted).
COUNTED_FACES = {
    "hysts_input.jpg": 39, "jonathonyan_detect_01.jpg": 6, "jonathonyan_detect_02.jpg": 1,
    "jonathonyan_detect_03.jpg": 1, "jonathonyan_detect_04.jpg": 5, "jonathonyan_detect_05.jpg": 1,
    "jonathonyan_detect_06.jpg": 1, "jonathonyan_detect_07.jpg": 1, "jonathonyan_detect_08.jpg": 1,
    "jonathonyan_sample1.jpg": 2,
}  # fmt: skip
ANIMEFACE_SCRIPT = """
import json, sys
import animeface
from PIL import Image
for path in sys.argv[1:]:
    faces = animeface.detect(Image.open(path).convert("RGB"))
    print(json.dumps([[f.face.pos.x, f.face.pos.y, f.face.pos.width, f.face.pos.height] for f in faces]))
"""
Boxes = list[tuple[float, float, float, float]]


def cascade(settings: dict, cascade_path: str, scale: float = 1.0, pad: float = 0.0) -> Callable:
    """The anime cascade on the image upscaled by ``scale`` and padded by ``pad`` of its short side."""
    detector = DETECTORS.build({"name": "anime-cascade", "cascade_path": cascade_path, **settings})

    def detect(images: list[np.ndarray]) -> list[Boxes]:
        found = []
        for image in images:
            border = round(pad * min(image.shape[:2]))
            work = cv2.copyMakeBorder(image, border, border, border, border, cv2.BORDER_REPLICATE)
            work = cv2.resize(work, None, fx=scale, fy=scale) if scale != 1.0 else work
            boxes = [tuple(v / scale - border for v in face.box) for face in detector.detect(work)]
            found.append(boxes)
        return found

    return detect


def animeface(python: str) -> Callable:
    """nagadomi's animeface run in its own interpreter ``python`` over images written to disk."""

    def detect(images: list[np.ndarray]) -> list[Boxes]:
        with tempfile.TemporaryDirectory() as folder:
            paths = [str(Path(folder) / f"{i}.png") for i in range(len(images))]
            for path, image in zip(paths, images):
                cv2.imwrite(path, cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
            out = subprocess.run([python, "-c", ANIMEFACE_SCRIPT, *paths], capture_output=True, text=True, check=True)
        return [[(x, y, x + w, y + h) for x, y, w, h in json.loads(line)] for line in out.stdout.splitlines()]

    return detect


def _centre_in_any(box, boxes: Boxes) -> bool:
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return any(x1 <= cx <= x2 and y1 <= cy <= y2 for x1, y1, x2, y2 in boxes)


def united(first: Callable, second: Callable) -> Callable:
    """``first``'s boxes plus those of ``second`` whose centre lies in none of them."""

    def detect(images: list[np.ndarray]) -> list[Boxes]:
        return [a + [box for box in b if not _centre_in_any(box, a)] for a, b in zip(first(images), second(images))]

    return detect


def detectors(cascade_path: str, animeface_python: str | None) -> dict[str, Callable]:
    ours = {"scale_factor": 1.05, "min_neighbors": 5, "equalize": False}
    found = {
        "anime-cascade (raypipe: 1.05, 5)": cascade(ours, cascade_path),
        "anime-cascade, author's settings (1.1, 5, equalised)": cascade({"scale_factor": 1.1, "min_neighbors": 5, "equalize": True}, cascade_path),
        "anime-cascade on the image upscaled 2x": cascade(ours, cascade_path, scale=2.0),
        "anime-cascade on the image padded by 10%": cascade(ours, cascade_path, pad=0.1),
    }  # fmt: skip
    if animeface_python:
        found["animeface (nagadomi)"] = animeface(animeface_python)
        found["anime-cascade + animeface"] = united(found["anime-cascade (raypipe: 1.05, 5)"], found["animeface (nagadomi)"])
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cascade", default=str(SHARED / "models" / "lbpcascade_animeface.xml"))
    parser.add_argument("--animeface-python", help="python with animeface and Pillow < 12")
    args = parser.parse_args()
    held_out = split_characters(load_characters(SHARED / "data" / "anime"))[1]
    pages = compose_pages(held_out, args.pages, seed=args.seed)
    names = sorted(COUNTED_FACES)
    illustrations = [cv2.cvtColor(cv2.imread(str(SHARED / "data" / "anime_pages" / n)), cv2.COLOR_BGR2RGB) for n in names]
    truth = [COUNTED_FACES[n] for n in names]
    n_faces = sum(len(page.faces) for page in pages)
    print(f"| detector | composed pages ({args.pages}, {n_faces} faces): recall / precision | s/page "
          f"| illustrations ({sum(truth)} faces counted): found, images with the right count |")  # fmt: skip
    print("|---|---|---|---|")
    for name, detect in detectors(args.cascade, args.animeface_python).items():
        start = time.perf_counter()
        scores = centre_scores(detect([page.image for page in pages]), [page.faces for page in pages])
        seconds = (time.perf_counter() - start) / len(pages)
        counts = [len(boxes) for boxes in detect(illustrations)]
        right = sum(c == t for c, t in zip(counts, truth))
        print(f"| {name} | {scores['recall']:.3f} / {scores['precision']:.3f} | {seconds:.2f} "
              f"| {sum(counts)} ({', '.join(map(str, counts))}), {right}/{len(truth)} |")  # fmt: skip


if __name__ == "__main__":
    main()
