"""raypipe's own per-image cost: the pipeline against a plain one-process loop doing the same work.

    python bench/overhead.py [--sizes 10000,100000] [--cache DIR] [--set key=value ...]

Makes 64x64 crops of the bundled sample photos once (cached), then for each size runs, each in
a fresh process: ``raypipe extract`` with a trivial detector (``whole-image``) and embedder
(colour histograms), Ray's start-up included; and a plain loop over the same images in one
process (read, decode, detect, chip, quality, chip JPEG, colour histogram; one Parquet table
of faces and one of chips, as the pipeline writes them per shard). Prints images/s of both, their ratio, and each driver's peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
CROP = 64
DETECTOR = {"name": "whole-image"}
EMBEDDER = {"name": "feature", "feature": "color-hist"}
#: Ray gives its local node 30 s to start; a loaded machine can miss that: the run is started again.
RAY_START_TIMEOUT = "timed out during startup"
STARTS = 3
SETTINGS = [f"extract.detector={json.dumps(DETECTOR)}", f"extract.embedder={json.dumps(EMBEDDER)}", "tracking.enabled=false"]


def make_images(folder: Path, count: int) -> list[str]:
    """``count`` random 64x64 crops of the sample photos as JPEGs under ``folder`` (made once)."""
    import cv2

    paths = [str(folder / f"{i // 1000:04d}" / f"{i:07d}.jpg") for i in range(count)]
    if all(os.path.exists(p) for p in (paths[0], paths[-1])):
        return paths
    sources = [cv2.imread(str(p)) for p in sorted((REPO / "sample" / "photos").rglob("*.jpg"))]
    rng = np.random.default_rng(0)
    for i, path in enumerate(paths):
        image = sources[i % len(sources)]
        side = int(rng.integers(CROP, min(image.shape[:2]) + 1))
        top, left = (int(rng.integers(0, n - side + 1)) for n in image.shape[:2])
        os.makedirs(os.path.dirname(path), exist_ok=True)
        cv2.imwrite(path, cv2.resize(image[top : top + side, left : left + side], (CROP, CROP)))
    return paths


def run_pipeline(list_file: str, out: str, overrides: list[str]) -> dict:
    """``raypipe extract`` as the CLI runs it, Ray's start-up included."""
    from raypipe.config import Config
    from raypipe.pipeline.extract import extract

    result = extract([list_file], out, Config.load(overrides=SETTINGS + overrides))
    return {"images": result.images, "faces": result.faces, "errors": result.errors}


def run_loop(list_file: str, out: str, overrides: list[str]) -> dict:
    """The same work, one image at a time, in this process."""
    import cv2
    import pyarrow as pa
    import pyarrow.parquet as pq

    from raypipe.chips import chips_table
    from raypipe.config import Config
    from raypipe.detect import DETECTORS
    from raypipe.embed import EMBEDDERS
    from raypipe.ids import face_id, image_id
    from raypipe.io.decode import decode_image
    from raypipe.quality import measure
    from raypipe.storage import read_bytes

    config = Config.load(overrides=SETTINGS + overrides).extract
    detector, embedder = DETECTORS.build(DETECTOR), EMBEDDERS.build(EMBEDDER)
    os.makedirs(out, exist_ok=True)
    rows, chips, jpegs = [], [], []
    for path in Path(list_file).read_text().split():
        image = decode_image(read_bytes(path), config.max_image_pixels, config.max_side)
        for index, face in enumerate(detector.detect(image.pixels)):
            chip = embedder.align(image.pixels, face)
            quality = measure(face, chip, image.scale)
            fid = face_id(image_id(path), index)
            jpegs.append(cv2.imencode(".jpg", chip[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 92])[1].tobytes())
            rows.append({"face_id": fid, "image_path": path, "box": list(face.box), "sharpness": quality.sharpness})
            chips.append(chip)
            if len(chips) == config.embed_batch_size:
                for row, vector in zip(rows[-len(chips) :], embedder.embed(np.stack(chips))):
                    row["embedding"] = vector.tolist()
                chips = []
    if chips:
        for row, vector in zip(rows[-len(chips) :], embedder.embed(np.stack(chips))):
            row["embedding"] = vector.tolist()
    pq.write_table(pa.Table.from_pylist(rows), f"{out}/faces.parquet")
    pq.write_table(chips_table([row["face_id"] for row in rows], jpegs), f"{out}/chips.parquet")
    return {"images": len(Path(list_file).read_text().split()), "faces": len(rows), "errors": 0}


def child(kind: str, list_file: str, out: str, overrides: list[str]) -> None:
    """Run one side, print its figures as JSON (peak RSS of this process, the driver)."""
    start = time.perf_counter()
    counts = (run_pipeline if kind == "raypipe" else run_loop)(list_file, out, overrides)
    seconds = time.perf_counter() - start
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({**counts, "seconds": seconds, "rss_mb": rss_mb}))


def measure_side(kind: str, paths: list[str], overrides: list[str]) -> dict:
    with tempfile.TemporaryDirectory(prefix="rp-overhead-") as tmp:
        list_file = Path(tmp) / "inputs.txt"
        list_file.write_text("\n".join(paths))
        env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
        command = [sys.executable, __file__, "--child", kind, str(list_file), str(Path(tmp) / "out"), *(a for o in overrides for a in ("--set", o))]
        for _ in range(STARTS):
            done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
            if RAY_START_TIMEOUT not in done.stderr:
                break
            print(f"({kind}: Ray did not start in time on this loaded machine; starting again)", flush=True)
        if done.returncode:
            raise RuntimeError(f"{kind} failed:\n{done.stderr[-3000:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated image counts")
    parser.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "raypipe-overhead"), help="folder of the crops")
    parser.add_argument("--set", dest="overrides", action="append", default=[], help="config override for both sides")
    parser.add_argument("--child", nargs=3, metavar=("KIND", "LIST", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child, args.overrides)
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    paths = make_images(Path(args.cache), max(sizes))
    print(f"{'images':>8} {'side':>8} {'seconds':>8} {'images/s':>9} {'peak RSS MB':>12}", flush=True)
    rss = {}
    for size in sizes:
        seconds = {}
        for side in ("raypipe", "loop"):
            figures = measure_side(side, paths[:size], args.overrides)
            assert figures["faces"] == size, figures
            seconds[side] = figures["seconds"]
            rss.setdefault(size, figures["rss_mb"])
            print(f"{size:>8} {side:>8} {figures['seconds']:>8.1f} {size / figures['seconds']:>9.0f} {figures['rss_mb']:>12.0f}", flush=True)
        print(f"{size:>8} raypipe / loop images/s: {seconds['loop'] / seconds['raypipe']:.2f}", flush=True)
    if len(sizes) > 1:
        print(f"raypipe driver peak RSS at {sizes[-1]} / at {sizes[0]}: {rss[sizes[-1]] / rss[sizes[0]]:.2f}x")


if __name__ == "__main__":
    main()
