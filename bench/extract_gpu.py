"""Extraction throughput on a GPU machine: images/s per GPU of the Ray Data pipeline.

    python bench/extract_gpu.py --arcface PATH [--images DIR] [--copies N] [--mtcnn-weights DIR]

Runs MTCNN detection (torch, batched over images) and the ArcFace ONNX recogniser (torch
backend, or onnxruntime-gpu where installed) on the GPU, decoding on the node's CPUs as Ray
Data tasks, over ``--copies`` linked copies of the images (distinct paths, so distinct ids).
Ray starts before the clock; model loading is inside the timed region, so a first short run
warms the caches and the second, longer one is reported.
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
import time
from pathlib import Path

from raypipe.config import Config
from raypipe.io.inputs import list_inputs
from raypipe.pipeline.extract import extract
from raypipe.ray_session import ensure_ray

REPO = Path(__file__).resolve().parents[1]


def linked_copies(images: list[str], folder: Path, copies: int) -> None:
    for copy in range(copies):
        target = folder / f"copy{copy:04d}"
        target.mkdir(parents=True)
        for i, image in enumerate(images):
            os.symlink(os.path.abspath(image), target / f"{i:05d}{Path(image).suffix}")


def timed_extract(inputs: Path, out: Path, config: Config) -> tuple[float, int, int, dict]:
    start = time.perf_counter()
    result = extract([str(inputs)], str(out), config)
    return time.perf_counter() - start, result.images, result.faces, result.stage_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", default=str(REPO / "sample" / "photos"))
    parser.add_argument("--arcface", required=True, help="ArcFace ONNX file")
    parser.add_argument("--copies", type=int, default=100)
    parser.add_argument("--mtcnn-weights", default=None, help="folder with pnet.pt, rnet.pt, onet.pt")
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    detector = "{name: mtcnn, device: cuda" + (f", weights_dir: {args.mtcnn_weights}}}" if args.mtcnn_weights else "}")
    config = Config.load(overrides=[
        "tracking.enabled=false", f"extract.detector={detector}",
        f"extract.embedder={{name: arcface-onnx, model_path: {args.arcface}, device: cuda}}",
        "extract.shard_size=1024", "extract.detect_batch_size=32", "extract.save_chips=false",
        *args.overrides,
    ])  # fmt: skip
    images = list_inputs([args.images]).images
    ensure_ray(config.ray.address)
    import ray

    gpus = ray.cluster_resources().get("GPU", 0)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        linked_copies(images, tmp / "warm", max(1, args.copies // 10))
        linked_copies(images, tmp / "main", args.copies)
        warm = timed_extract(tmp / "warm", tmp / "run-warm", config)
        seconds, n_images, n_faces, stages = timed_extract(tmp / "main", tmp / "run", config)
    print(f"cluster: {ray.cluster_resources().get('CPU', 0):g} CPU, {gpus:g} GPU")
    print(f"warm-up: {warm[1]} images in {warm[0]:.1f} s")
    print(f"images: {n_images} ({len(images)} distinct x {args.copies}), faces: {n_faces}, {seconds:.1f} s")
    print("worker seconds per stage: " + ", ".join(f"{k} {v:.1f}" for k, v in stages.items()))
    print(f"throughput: {n_images / seconds:.0f} images/s, {n_faces / seconds:.0f} faces/s, "
          f"{n_images / seconds / max(gpus, 1):.0f} images/s per GPU")


if __name__ == "__main__":
    main()
