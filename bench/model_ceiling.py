"""How fast the default photo chain's models alone can go on this machine: the ceiling of extraction.

    python bench/model_ceiling.py [--threads 2] [--seconds 8] [--model-root DIR]

Runs each ONNX model of the default chain (RFB detector at 240x320, 68-point landmarks at 64x64,
ArcFace-style embedder at 112x112) on random inputs of its own shape, one image per call as the
pipeline calls them, with ``--threads`` intra-op threads, and prints images per second per model,
for the three together (one face per image), and the hours 1M images would take at that rate.
No decoding, alignment, Ray or I/O is counted: a whole run can only be slower.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import onnxruntime as ort

from raypipe.models import find_model

CHAIN = (
    ("detector", "fr_detect.onnx"),
    ("landmarks", "fr_landmark.onnx"),
    ("embedder", "fr_feature.onnx"),
)


def images_per_second(path: str, threads: int, seconds: float) -> float:
    """Calls per second of the model at ``path`` on one random input of its declared shape."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    spec = session.get_inputs()[0]
    shape = [d if isinstance(d, int) else 1 for d in spec.shape]
    feed = {spec.name: np.random.default_rng(0).random(shape, dtype=np.float32)}
    session.run(None, feed)
    calls, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        session.run(None, feed)
        calls += 1
    return calls * shape[0] / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--model-root", default=None)
    args = parser.parse_args()
    per_image_s = 0.0
    for role, name in CHAIN:
        path = find_model(name, args.model_root)
        if path is None:
            raise SystemExit(f"{name} not found: run `raypipe models fetch` first")
        rate = images_per_second(str(path), args.threads, args.seconds)
        per_image_s += 1 / rate
        print(f"{role:10s} {name:18s} {rate:8.1f} images/s")
    chain = 1 / per_image_s
    print(
        f"{'chain':10s} {'(one face each)':18s} {chain:8.1f} images/s, 1M images in {1e6 / chain / 3600:.1f} h"
    )


if __name__ == "__main__":
    main()
