"""Compare every available face detector on the same photos; print markdown tables.

Figures per detector:
  * recall and precision at IoU >= 0.5 on the 9 annotated dlib group photos (43 faces), split
    as dlib split them: ``dlib_training.xml`` (4 photos, 18 faces: the set detector settings
    such as the RFB threshold and input size were tuned on, "fitted-on") and
    ``dlib_testing.xml`` (5 photos, 25 faces: never used for tuning, "held-out"),
  * faces found on ``dlib_dogs_negative.jpg`` (should be 0),
  * share of ``photos/`` images (each shows at least one face) with a face found,
  * milliseconds per image on the groups and on the photos (after a warm-up image).

``--chains`` also times the whole photo chain, decode -> detect -> landmarks -> align ->
embed, over the same photos in the same run: RFB + ArcFace (``fr_feature.onnx``) against
dlib-hog + dlib's 68-point landmarks + dlib's embedding. ``--sweep`` prints RFB's figures on the
fitted-on photos and the dog photo for several input sizes and thresholds (how its defaults were
chosen; the dog photo then counts as fitted-on too).

Images are decoded as the pipeline does (EXIF rotation, downscaled to ``extract.max_side``);
every model runs on one thread, as in the pipeline's actors.

    python bench/detectors.py --model-root /work/cache/models --chains
    python bench/detectors.py --detectors haar mtcnn --photos-per-person 3
    python bench/detectors.py --model-root /work/cache/models --detectors rfb --sweep
    python bench/detectors.py --extra '{"name": "scrfd", "model_path": "det_10g.onnx"}'
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
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
#: Detectors whose model files are looked up under ``--model-root``.
FROM_MODEL_ROOT = {"rfb", "insightface"}
#: dlib's own split of the annotated group photos: tuned on the first, reported on the second.
FITTED_ON, HELD_OUT = "dlib_training.xml", "dlib_testing.xml"


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, tp: int, fp: int, fn: int) -> None:
        self.tp, self.fp, self.fn = self.tp + tp, self.fp + fp, self.fn + fn

    def markdown(self) -> str:
        recall, precision = self.tp / max(self.tp + self.fn, 1), self.tp / max(self.tp + self.fp, 1)
        return f"{recall:.2f} ({self.tp}/{self.tp + self.fn}) | {precision:.2f}"


@dataclass
class Row:
    name: str
    held_out: Counts = field(default_factory=Counts)
    fitted_on: Counts = field(default_factory=Counts)
    negative_faces: int = 0
    groups_ms: float = 0.0
    photos_found: int = 0
    photos_total: int = 0
    photos_ms: float = 0.0

    def markdown(self) -> str:
        photos = self.photos_found / max(self.photos_total, 1)
        return (
            f"| {self.name} | {self.held_out.markdown()} | {self.fitted_on.markdown()} | {self.negative_faces} | "
            f"{photos:.2f} ({self.photos_found}/{self.photos_total}) | {self.groups_ms:.0f} | {self.photos_ms:.0f} |"
        )


HEADER = (
    "| detector | recall@0.5 held-out groups | precision | recall@0.5 fitted-on groups | precision "
    "| faces on dogs | photos with a face | ms/image groups | ms/image photos |\n|---|---|---|---|---|---|---|---|---|"
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


def group_truth(data: Path, xml_name: str) -> dict[Path, np.ndarray]:
    groups = data / "groups"
    return annotated_images(groups, [groups / "annotations" / xml_name], "dlib_")


def score_groups(detector: Detector, truth: dict[Path, np.ndarray], iou: float) -> tuple[Counts, float]:
    """Matches against the true boxes and milliseconds per image."""
    counts, loaded = Counts(), [load_image(path) for path in truth]
    found, ms = timed(detector.detect, [pixels for pixels, _ in loaded])
    for faces, (_, scale), true_boxes in zip(found, loaded, truth.values()):
        counts.add(*match_detections(np.array([f.box for f in faces]).reshape(-1, 4) * scale, true_boxes, iou))
    return counts, ms


def bench(name: str, detector: Detector, data: Path, photos: list[Path], iou: float) -> Row:
    row = Row(name)
    row.fitted_on, fitted_ms = score_groups(detector, group_truth(data, FITTED_ON), iou)
    row.held_out, held_ms = score_groups(detector, group_truth(data, HELD_OUT), iou)
    row.groups_ms = (4 * fitted_ms + 5 * held_ms) / 9
    row.negative_faces = len(detector.detect(load_image(data / "groups" / "dlib_dogs_negative.jpg")[0]))
    if photos:
        found, row.photos_ms = timed(detector.detect, [load_image(p)[0] for p in photos])
        row.photos_found, row.photos_total = sum(bool(f) for f in found), len(photos)
    return row


def run_chain(data: bytes, detector: Detector, embedder, landmarker=None) -> int:
    """Faces of one encoded photo through decode -> detect -> (landmarks) -> align -> embed."""
    config = ExtractConfig()
    pixels = decode_image(data, config.max_image_pixels, config.max_side).pixels
    faces = detector.detect(pixels)
    faces = landmarker.fill(pixels, faces) if landmarker is not None else faces
    if faces:
        embedder.embed(np.stack([embedder.align(pixels, face) for face in faces]))
    return len(faces)


def compare_chains(model_root: str | None, photos: list[Path]) -> None:
    """Images/s of each chain over ``photos`` (read into memory first), the chains taking turns
    photo by photo so that both see the same machine load; a warm-up photo before the clock."""
    from raypipe.align import Landmarker68
    from raypipe.embed import EMBEDDERS
    from raypipe.models import find_model

    arcface = find_model("fr_feature.onnx", model_root)
    chains = {
        "rfb + fr_landmark + ArcFace": (
            DETECTORS.build({"name": "rfb", "model_root": model_root, "device": "cpu"}),
            EMBEDDERS.build({"name": "arcface-onnx", "model_path": str(arcface), "device": "cpu"}),
        ),
        "dlib-hog + dlib 68 points + dlib embedding": (
            DETECTORS.build("dlib-hog"), EMBEDDERS.build("dlib"), Landmarker68(),
        ),
    }  # fmt: skip
    encoded = [path.read_bytes() for path in photos]
    seconds, faces = dict.fromkeys(chains, 0.0), dict.fromkeys(chains, 0)
    for parts in chains.values():
        run_chain(encoded[0], *parts)
    for data in encoded:
        for label, parts in chains.items():
            start = time.perf_counter()
            faces[label] += run_chain(data, *parts)
            seconds[label] += time.perf_counter() - start
    print("| chain (decode -> detect -> landmarks -> align -> embed, CPU) | images/s | faces |\n|---|---|---|")
    for label in chains:
        print(f"| {label} | {len(encoded) / seconds[label]:.1f} | {faces[label]} |")
    rfb, dlib = seconds.values()
    print(f"speed-up: {dlib / rfb:.1f}x on {len(encoded)} photos")


def sweep(data: Path, model_root: str | None, iou: float) -> None:
    """RFB on the fitted-on group photos and the dog photo for several input sizes and thresholds."""
    truth = group_truth(data, FITTED_ON)
    dogs = load_image(data / "groups" / "dlib_dogs_negative.jpg")[0]
    print("| input size | threshold | recall@0.5 fitted-on | precision | faces on dogs | ms/image |")
    print("|---|---|---|---|---|---|")
    for size in ((320, 240), (480, 360), (640, 480)):
        for threshold in (0.5, 0.65, 0.8, 0.9, 0.95, 0.97, 0.99):
            detector = DETECTORS.build({"name": "rfb", "model_root": model_root, "device": "cpu",
                                        "input_size": size, "score_threshold": threshold})  # fmt: skip
            counts, ms = score_groups(detector, truth, iou)
            print(f"| {size[0]}x{size[1]} | {threshold} | {counts.markdown()} | {len(detector.detect(dogs))} | {ms:.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared data folder")
    parser.add_argument("--model-root", help="folder of model files (fr_detect.onnx, fr_feature.onnx, ...)")
    parser.add_argument("--detectors", nargs="*", help="registered names (default: all that load)")
    parser.add_argument("--extra", action="append", default=[], help="a detector spec as JSON")
    parser.add_argument("--photos-per-person", type=int, help="photos per identity (default: all)")
    parser.add_argument("--iou", type=float, default=0.5)
    parser.add_argument("--chains", action="store_true", help="also time RFB+ArcFace vs dlib end to end")
    parser.add_argument("--sweep", action="store_true", help="only RFB's settings on the fitted-on photos")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    import torch

    torch.set_num_threads(1)  # one core per detector, as in the pipeline's actors (dlib uses one)
    if args.sweep:
        sweep(args.data, args.model_root, args.iou)
        return

    names = args.detectors if args.detectors is not None else [
        n for n in DETECTORS.names() if n not in NOT_COMPARED
    ]
    specs = [{"name": n, **({"model_root": args.model_root} if n in FROM_MODEL_ROOT and args.model_root else {})}
             for n in names] + [json.loads(extra) for extra in args.extra]  # fmt: skip
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
    if args.chains:
        compare_chains(args.model_root, photos)


if __name__ == "__main__":
    main()
