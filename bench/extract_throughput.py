"""Images/s of raypipe's Ray Data extraction against a plain sequential loop, same models, same images.

    python bench/extract_throughput.py [IMAGES ...] [--limit N] [--set key=value ...]

Prints both rates and their ratio, and the machine's own ceiling for comparison: the same loop
run by one process per core, each over its share of the images, with no Ray at all. Default images: ../shared/data/photos and groups (217 photos
of 1 to ~100 faces), else the bundled sample. Both sides load their models inside the timed
region; Ray itself is started before.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path

from raypipe.config import Config
from raypipe.embed.select import resolve_embedder
from raypipe.ids import image_id
from raypipe.io.inputs import list_inputs
from raypipe.pipeline.extract import extract
from raypipe.pipeline.stages import build_stages
from raypipe.pipeline.work import ShardWork
from raypipe.ray_session import ensure_ray

REPO = Path(__file__).resolve().parents[1]


def sequential(paths: list[str], config: Config) -> tuple[float, int]:
    """The same stages called one image at a time in this process (nothing written)."""
    start = time.perf_counter()
    spec = resolve_embedder(config.extract.embedder, config.extract.model_root)
    stages = build_stages(config, spec)
    for stage in stages:
        stage.setup()
    faces = 0
    for path in paths:
        work = ShardWork.start("sequential", [path], [image_id(path)])
        for stage in stages:
            stage(work)
        faces += len(work.faces["face_index"])
    return time.perf_counter() - start, faces


def _loop_share(args: tuple[list[str], dict]) -> float:
    paths, config = args
    return sequential(paths, Config.from_dict(config))[0]


def parallel_loops(paths: list[str], config: Config, processes: int) -> float:
    """Wall time of ``processes`` independent sequential loops over interleaved shares."""
    from multiprocessing import get_context

    shares = [(paths[i::processes], config.to_dict()) for i in range(processes)]
    start = time.perf_counter()
    with get_context("spawn").Pool(processes) as pool:
        pool.map(_loop_share, shares)
    return time.perf_counter() - start


def main() -> None:
    shared = REPO.parent / "shared" / "data"
    default = [str(shared / "photos"), str(shared / "groups")] if shared.exists() else [str(REPO / "sample" / "photos")]
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("images", nargs="*", default=default)
    parser.add_argument("--limit", type=int, default=0, help="use the first N images only")
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    config = Config.load(overrides=["tracking.enabled=false", *args.overrides])
    paths = list_inputs(args.images).images
    paths = paths[: args.limit] if args.limit else paths
    ensure_ray(config.ray.address)
    import ray

    with tempfile.TemporaryDirectory() as out:
        list_file = Path(out) / "inputs.txt"
        list_file.write_text("\n".join(paths))
        start = time.perf_counter()
        result = extract([str(list_file)], str(Path(out) / "run"), config)
        ray_seconds = time.perf_counter() - start
    seq_seconds, seq_faces = sequential(paths, config)
    cores = int(ray.cluster_resources().get("CPU", 1))
    ceiling_seconds = parallel_loops(paths, config, cores)
    n = len(paths)
    print(f"images: {n} from {' '.join(args.images)}  faces: raypipe {result.faces}, loop {seq_faces}")
    print(f"sequential loop: {seq_seconds:7.1f} s  {n / seq_seconds:6.2f} images/s")
    print(f"raypipe (Ray):   {ray_seconds:7.1f} s  {n / ray_seconds:6.2f} images/s")
    print(f"speed-up: {seq_seconds / ray_seconds:.2f}x")
    print(f"ceiling: {cores} independent loops, no Ray: {ceiling_seconds:.1f} s, "
          f"{seq_seconds / ceiling_seconds:.2f}x; raypipe reaches {ceiling_seconds / ray_seconds:.0%} of it")


if __name__ == "__main__":
    main()
