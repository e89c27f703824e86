"""A run folder of synthetic faces, shard by shard as ``raypipe run`` writes it, without photos.

For scale benchmarks of what follows extraction (``raypipe cluster``, ``correct``, ``export``)
at sizes that extraction through the real models cannot reach on a small machine: the faces are
:func:`raypipe.testing.realistic_faces.make_realistic_faces` (fitted to ArcFace on LFW, named
``arcface-512`` so that its calibrated distances apply), one face per photo, the photos in a
random order; each shard goes through :func:`raypipe.pipeline.shards.write_shard`, the writer of
a real run (tables, ``chips.parquet/`` and the marker), so the layout is a run's. The chips are
small placeholder JPEGs (noise, not faces) and the photo paths name no real files.
"""

from __future__ import annotations

import cv2
import numpy as np

from raypipe.config import Config
from raypipe.ids import image_id
from raypipe.layout import RunLayout, atomic_write_text
from raypipe.pipeline.shards import write_shard
from raypipe.pipeline.work import ShardWork
from raypipe.testing.realistic_faces import make_realistic_faces

MODEL = "arcface-512"
#: Distinct placeholder chips (cycled over the faces).
CHIP_VARIANTS = 512


def placeholder_chips(side: int, seed: int) -> list[bytes]:
    """:data:`CHIP_VARIANTS` JPEGs of ``side`` x ``side`` noise."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (CHIP_VARIANTS, side, side, 3), dtype=np.uint8)
    return [cv2.imencode(".jpg", image)[1].tobytes() for image in images]


def shard_work(key: str, rows: np.ndarray, X: np.ndarray, chips: list[bytes], side: int) -> ShardWork:
    """One shard: photo ``rows[i]`` holds one face, embedding ``X[i]``."""
    paths = [f"/synthetic/photos/{row:08d}.jpg" for row in rows]
    work = ShardWork.start(key, paths, [image_id(p) for p in paths])
    count = len(rows)
    work.images.update(width=[side * 4] * count, height=[side * 4] * count)
    work.faces = {
        "image": list(range(count)), "face_index": [0] * count, "panel_index": [-1] * count,
        "box": [[side, side, 2 * side, 2 * side]] * count, "det_score": [0.99] * count,
        "landmarks": [np.zeros(10, np.float32)] * count, "embedding": X,
        "face_px": [112.0] * count, "sharpness": [100.0] * count, "yaw": [0.0] * count,
        "chip_jpeg": [chips[row % len(chips)] for row in rows],
    }  # fmt: skip
    return work


def write_synthetic_run(out, n: int, *, dim: int = 128, shard_size: int = 1024, chip_side: int = 32,
                        seed: int = 0) -> np.ndarray:  # fmt: skip
    """Write the run folder ``out`` of ``n`` synthetic faces in shards of ``shard_size`` photos;
    returns each face's identity, in the order of the faces table (shard after shard)."""
    layout = RunLayout.at(out)
    data = make_realistic_faces(n, dim, seed=seed)
    order = np.random.default_rng(seed + 1).permutation(n)
    chips = placeholder_chips(chip_side, seed)
    models = {"detector": "synthetic", "embedder": MODEL}
    for number, start in enumerate(range(0, n, shard_size)):
        rows = order[start : start + shard_size]
        work = shard_work(f"{number:06d}", rows, data.X[rows], chips, chip_side)
        write_shard(layout, work, models, save_chips=True, node="synthetic")
    atomic_write_text(layout.config, Config().to_json())
    return np.asarray(data.labels)[order]
