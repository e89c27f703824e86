"""End-to-end extraction throughput on one GPU machine: images/s of the Ray Data pipeline, with
decoding on the CPUs and its rate per core.

    python bench/extract_gpu.py MODEL_ROOT                     # RFB + 68-point landmarks + ArcFace
    python bench/extract_gpu.py MODEL_ROOT --detector mtcnn    # MTCNN instead of RFB
    python bench/extract_gpu.py /work/cache/models --copies 100 --set ray.gpus_per_actor=0.5

MODEL_ROOT holds fr_detect.onnx, fr_landmark.onnx and fr_feature.onnx (``raypipe models fetch``
puts them there; MTCNN's weights are fetched or read from --mtcnn-weights). The images
(default: the 39 bundled sample photos) are symlinked ``--copies`` times (default 100: 3,900
images, distinct paths so distinct ids). Detection (RFB or MTCNN, torch on CUDA, pre- and
post-processing on the device) and ArcFace (torch backend, or onnxruntime-gpu where installed)
run on GPU actors, decoding and alignment as Ray tasks on the CPUs (the pooled topology of
raypipe.pipeline.topology; ``--set ray.topology=fused`` runs every stage in one worker instead). Ray starts before the clock; a first
run over a tenth of the copies loads the models and warms the caches, the second is reported.

Prints: the cluster, images and faces, wall seconds, worker seconds per stage, images/s (and
per GPU), and the decode rate per core (images / decode worker-seconds) with the ceiling that
gives for the machine's cores. On a 16-core H200 the whole run takes under two minutes.
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
from raypipe.models import find_model
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


def detector_spec(name: str, model_root: str, mtcnn_weights: str | None) -> str:
    if name == "mtcnn":
        return "{name: mtcnn, device: cuda" + (
            f", weights_dir: {mtcnn_weights}}}" if mtcnn_weights else "}"
        )
    return f"{{name: rfb, model_root: {model_root}, device: cuda}}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "model_root", help="folder with fr_detect.onnx, fr_landmark.onnx, fr_feature.onnx"
    )
    parser.add_argument("--images", default=str(REPO / "sample" / "photos"))
    parser.add_argument("--copies", type=int, default=100)
    parser.add_argument("--detector", choices=("rfb", "mtcnn"), default="rfb")
    parser.add_argument(
        "--mtcnn-weights", default=None, help="folder with pnet.pt, rnet.pt, onet.pt"
    )
    parser.add_argument(
        "--set", dest="overrides", action="append", default=[], help="config override"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    arcface = find_model("fr_feature.onnx", args.model_root)
    if arcface is None:
        parser.error(f"no fr_feature.onnx under {args.model_root}")
    config = Config.load(overrides=[
        "tracking.enabled=false", f"extract.detector={detector_spec(args.detector, args.model_root, args.mtcnn_weights)}",
        f"extract.embedder={{name: arcface-onnx, model_path: {arcface}, device: cuda}}",
        "extract.shard_size=1024", "extract.detect_batch_size=32", "extract.save_chips=false",
        *args.overrides,
    ])  # fmt: skip
    images = list_inputs([args.images]).images
    ensure_ray(config.ray.address)
    import ray

    cpus, gpus = ray.cluster_resources().get("CPU", 0), ray.cluster_resources().get("GPU", 0)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        linked_copies(images, tmp / "warm", max(1, args.copies // 10))
        linked_copies(images, tmp / "main", args.copies)
        warm = timed_extract(tmp / "warm", tmp / "run-warm", config)
        seconds, n_images, n_faces, stages = timed_extract(tmp / "main", tmp / "run", config)
    decode_per_core = n_images / max(stages.get("decode", 0.0), 1e-9)
    print(f"cluster: {cpus:g} CPU, {gpus:g} GPU; detector {args.detector}, ArcFace {arcface}")
    print(f"warm-up: {warm[1]} images in {warm[0]:.1f} s")
    print(
        f"images: {n_images} ({len(images)} distinct x {args.copies}), faces: {n_faces}, {seconds:.1f} s"
    )
    print("worker seconds per stage: " + ", ".join(f"{k} {v:.1f}" for k, v in stages.items()))
    print(
        f"throughput: {n_images / seconds:.0f} images/s, {n_faces / seconds:.0f} faces/s, "
        f"{n_images / seconds / max(gpus, 1):.0f} images/s per GPU"
    )
    print(
        f"decode: {decode_per_core:.0f} images/s per core, {decode_per_core * cpus:.0f} images/s on {cpus:g} cores"
    )


if __name__ == "__main__":
    main()
