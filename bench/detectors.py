"""Compare every available face detector on the same photos; print a markdown table.

Figures per detector:
  * recall and precision at IoU >= 0.5 on the 9 annotated dlib group photos (43 faces),
  * faces found on ``dlib_dogs_negative.jpg`` (should be 0),
  * share of ``photos/`` images (each shows at least one face) with a face found,
  * milliseconds per image on the groups and on the photos (after a warm-up image).

Images are decoded as the pipeline does (EXIF rotation, downscaled to ``extract.max_side``).

    python bench/detectors.py                         # all registered detectors that load
    python bench/detectors.py --detectors haar mtcnn --photos-per-person 3
    python bench/detectors.py --extra '{"name": "scrfd", "model_path": "det_10g.onnx"}'
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from raypipe.config import ExtractConfig
from raypipe.detect import DETECTORS, Detector
from raypipe.evaluation.detection import annotated_images, match_detections
from raypipe.io.decode import decode_image
from raypipe.registry import ComponentError, split_spec

log = logging.getLogger("bench.detectors")

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
#: Registered names not compared: whole-image is no detector, onnx needs a user's model.
NOT_COMPARED = {"whole-image", "onnx"}


@dataclass
class Row:
    name: str
    tp: int = 0
    fp: int = 0
    fn: int = 0
    negative_faces: int = 0
    groups_ms: float = 0.0
    photos_found: int = 0
    photos_total: int = 0
    photos_ms: float = 0.0

    def markdown(self) -> str:
        recall = self.tp / max(self.tp + self.fn, 1)
        precision = self.tp / max(self.tp + self.fp, 1)
        photos = self.photos_found / max(self.photos_total, 1)
        return (
            f"| {self.name} | {recall:.2f} ({self.tp}/{self.tp + self.fn}) | {precision:.2f} | "
            f"{self.negative_faces} | {photos:.2f} ({self.photos_found}/{self.photos_total}) | "
            f"{self.groups_ms:.0f} | {self.photos_ms:.0f} |"
        )


HEADER = (
    "| detector | recall@0.5 groups | precision@0.5 | faces on dogs | photos with a face "
    "| ms/image groups | ms/image photos |\n|---|---|---|---|---|---|---|"
)


def load_image(path: Path) -> tuple[np.ndarray, float]:
    """RGB pixels as the pipeline decodes them, and original pixels per decoded pixel."""
    config = ExtractConfig()
    decoded = decode_image(path.read_bytes(), config.max_image_pixels, config.max_side)
    return decoded.pixels, decoded.scale


def timed(detect: Callable[[np.ndarray], list], images: list[np.ndarray]) -> tuple[list, float]:
    """Detections of each image and mean milliseconds per image (first image run twice: warm-up)."""
    detect(images[0])
    start = time.perf_counter()
    found = [detect(image) for image in images]
    return found, 1000 * (time.perf_counter() - start) / len(images)


def photo_sample(photos_dir: Path, per_person: int | None) -> list[Path]:
    people = sorted(p for p in photos_dir.iterdir() if p.is_dir())
    return [path for person in people for path in sorted(person.glob("*.*"))[:per_person]]


def bench(name: str, detector: Detector, data: Path, photos: list[Path], iou: float) -> Row:
    row = Row(name)
    groups = data / "groups"
    truth = annotated_images(groups, sorted((groups / "annotations").glob("dlib_*.xml")), "dlib_")
    loaded = [load_image(path) for path in truth]
    found, row.groups_ms = timed(detector.detect, [pixels for pixels, _ in loaded])
    for faces, (_, scale), true_boxes in zip(found, loaded, truth.values()):
        boxes = np.array([face.box for face in faces]).reshape(-1, 4) * scale
        tp, fp, fn = match_detections(boxes, true_boxes, iou)
        row.tp, row.fp, row.fn = row.tp + tp, row.fp + fp, row.fn + fn
    row.negative_faces = len(detector.detect(load_image(groups / "dlib_dogs_negative.jpg")[0]))
    if photos:
        found, row.photos_ms = timed(detector.detect, [load_image(p)[0] for p in photos])
        row.photos_found, row.photos_total = sum(bool(f) for f in found), len(photos)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared data folder")
    parser.add_argument("--detectors", nargs="*", help="registered names (default: all that load)")
    parser.add_argument("--extra", action="append", default=[], help="a detector spec as JSON")
    parser.add_argument("--photos-per-person", type=int, help="photos per identity (default: all)")
    parser.add_argument("--iou", type=float, default=0.5)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    names = args.detectors if args.detectors is not None else [
        n for n in DETECTORS.names() if n not in NOT_COMPARED
    ]
    specs = [{"name": n} for n in names] + [json.loads(extra) for extra in args.extra]
    photos = photo_sample(args.data / "photos", args.photos_per_person)
    rows = []
    for spec in specs:
        name, params = split_spec(spec)
        label = name if not params else f"{name} {json.dumps(params)}"
        try:
            detector = DETECTORS.build(spec)
        except (ComponentError, FileNotFoundError, RuntimeError) as err:
            log.info("skipped %s: %s", label, err)
            continue
        log.info("running %s", label)
        rows.append(bench(label, detector, args.data, photos, args.iou))
        log.info(rows[-1].markdown())
    print(HEADER)
    for row in rows:
        print(row.markdown())


if __name__ == "__main__":
    main()
