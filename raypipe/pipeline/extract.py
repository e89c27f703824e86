"""Extraction: inputs -> shard list files -> Ray Data workers that extract and write whole shards.

The driver lists the inputs into shards (:mod:`raypipe.pipeline.listing`), hands the keys of
the shards still to do to the stage workers (:mod:`raypipe.pipeline.topology`: one fused task
per shard on CPUs, a pool per stage on GPUs), and collects one row of counts per shard: the
workers write the tables and chips themselves.

The write is the worker's own rather than a Ray Data ``Datasink``: a shard is the unit of
resume, so its table files, chips and marker must be written by the one task that holds all of
its rows, marker last; a sink downstream of the map would receive re-bundled blocks, and the
chips would travel through the object store to reach it.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field

from raypipe import storage
from raypipe.config import Config
from raypipe.console import Progress
from raypipe.detect.crops import CROP_SAMPLE_POOL, choose_crop_detector
from raypipe.detect.select import resolve_detector, resolve_text_mode
from raypipe.embed import EMBEDDERS
from raypipe.embed.select import resolve_embedder
from raypipe.errors import UsageError
from raypipe.io.inputs import first_images
from raypipe.layout import TABLES, RunLayout, atomic_write_text
from raypipe.models.shipped import shipped_weights_digest
from raypipe.pipeline.listing import list_shards
from raypipe.pipeline.resources import cluster_totals
from raypipe.pipeline.shards import TIMING_COLUMNS, completed_shards, remove_unfinished
from raypipe.pipeline.stages import splits_pages
from raypipe.ray_session import ensure_ray, user_errors_from_workers
from raypipe.registry import split_spec

log = logging.getLogger(__name__)

MAX_BLOCKS = 10_000


class RunMismatchError(UsageError):
    """The output folder holds an extraction made with other settings."""


@dataclass
class ExtractResult:
    images: int
    faces: int
    no_face: int
    errors: int
    skipped_shards: int
    new_shards: int
    seconds: float
    stage_seconds: dict[str, float] = field(default_factory=dict)
    models: dict[str, str] = field(default_factory=dict)


def extract(inputs: list[str], out: str, config: Config, overwrite: bool = False) -> ExtractResult:
    """Extract every face of ``inputs`` into the run folder ``out``, resuming a killed run."""
    started = time.perf_counter()
    layout = RunLayout.at(out)
    extract_config = config.extract
    if extract_config.detect_crops and extract_config.domain == "photo":
        extract_config.detector = choose_crop_detector(
            extract_config.detector, first_images(inputs, CROP_SAMPLE_POOL), extract_config.max_image_pixels
        )
    embedder_spec = resolve_embedder(
        extract_config.embedder, extract_config.model_root, extract_config.domain, extract_config.auto_fetch
    )
    extract_config.detector = resolve_detector(
        extract_config.detector, extract_config.domain, extract_config.model_root, embedder_spec["name"]
    )
    extract_config.embedder = embedder_spec
    if splits_pages(config):  # the panels' text mode; crops of a whole-image run have none
        config.comic.text_mode = resolve_text_mode(config.comic.text_mode, extract_config.detector)
    _claim_folder(layout, config, overwrite)
    listing, models = _list_while_ray_starts(inputs, layout, config)
    listed = set(listing.keys)
    done = {key: marker for key, marker in completed_shards(layout).items() if key in listed}
    remove_unfinished(layout, set(done))
    todo = [key for key in listing.keys if key not in done]
    log.info(
        "%d images in %d shards (%d already extracted), %d other files skipped", listing.images,
        len(listing.keys), len(done), listing.skipped,
    )  # fmt: skip
    if todo:
        progress = Progress(listing.images, done=sum(marker["images"] for marker in done.values()))
        _run_pipeline(layout, config, todo, embedder_spec, models, progress)
    markers = completed_shards(layout)
    missing = set(listing.keys) - set(markers)
    if missing:
        raise RuntimeError(f"shards never completed: {sorted(missing)[:5]}")
    totals = {name: sum(m[name] for m in markers.values()) for name in ("images", "faces", "no_face", "errors")}
    return ExtractResult(
        images=totals["images"] + listing.skipped,
        faces=totals["faces"],
        no_face=totals["no_face"],
        errors=totals["errors"] + listing.skipped,
        skipped_shards=len(done),
        new_shards=len(todo),
        seconds=time.perf_counter() - started,
        stage_seconds={c.removesuffix("_s"): round(sum(m["timings"][c] for m in markers.values()), 3) for c in TIMING_COLUMNS},
        models=models,
    )


def _list_while_ray_starts(inputs: list[str], layout: RunLayout, config: Config) -> tuple:
    """The shard listing and the models' names; on a fresh run Ray starts meanwhile (both take
    seconds: on a loaded 2-core machine Ray's start-up alone took 20 s)."""
    from concurrent.futures import ThreadPoolExecutor

    fresh = not any(layout.shards.glob("*.done.json"))
    with ThreadPoolExecutor(max_workers=1) as pool:
        listed = pool.submit(list_shards, inputs, layout, config.extract.shard_size, config.extract.domain == "comic",
                             config.extract.max_shard_size)  # fmt: skip
        if fresh:
            ensure_ray(config.ray.address)
            import ray.data  # noqa: F401 - its import takes seconds too
        embedder = EMBEDDERS.build(config.extract.embedder)
        models = {"detector": split_spec(config.extract.detector)[0], "embedder": embedder.model_name}
        return listed.result(), models


#: Extract settings that do not change what an extraction holds (the detector and embedder
#: they led to are recorded): changing them does not make a run folder stale.
UNRECORDED = ("shard_size", "max_shard_size", "auto_fetch", "detect_crops")


def uses_shipped_weights(config: Config) -> bool:
    """Whether an extraction runs weights raypipe ships (:mod:`raypipe.models.shipped`): every
    comic run, and the drawn-face detector or a drawn-face embedder in any domain."""
    detector, params = split_spec(config.extract.detector)
    drawn_detector = detector == "drawn-faces" or params.get("reframe") == "drawn-faces"
    embedder = split_spec(config.extract.embedder)[0]
    return config.extract.domain == "comic" or drawn_detector or embedder.startswith("feature:drawn")


def _claim_folder(layout: RunLayout, config: Config, overwrite: bool) -> None:
    """Record the extraction settings (and the shipped weights' digest where the run uses them);
    refuse to mix shards made with other settings or weights (a folder whose earlier run finished
    no shard, such as one stopped by a bad setting, holds none)."""
    fingerprint_file = layout.shards / "extract_config.json"
    recorded = {k: v for k, v in config.to_dict()["extract"].items() if k not in UNRECORDED}
    if uses_shipped_weights(config):
        recorded["shipped_weights"] = shipped_weights_digest()
    settings = json.dumps(recorded, sort_keys=True)
    if fingerprint_file.exists() and fingerprint_file.read_text(encoding="utf-8") != settings:
        if not overwrite and any(layout.shards.glob("*.done.json")):
            raise RunMismatchError(
                f"{layout.root} holds an extraction made with other extract settings or other raypipe "
                "model weights; use --overwrite to redo it, or another output folder"
            )
        for folder in (layout.shards, *(getattr(layout, table) for table in TABLES)):
            storage.remove_tree(folder)
    atomic_write_text(fingerprint_file, settings)


def _run_pipeline(layout: RunLayout, config: Config, todo: list[str], embedder_spec: dict, models: dict,
                  progress: Progress) -> None:  # fmt: skip
    """Extract the shards ``todo`` on the stage workers; they write, the driver counts."""
    import ray.data

    from raypipe.pipeline.topology import build_topology

    ensure_ray(config.ray.address)
    with user_errors_from_workers():  # entered first: a dataset keeps the context it was built in
        # a block per shard (up to MAX_BLOCKS) so that idle workers take the next shard
        keys = ray.data.from_items([{"shard": key} for key in todo], override_num_blocks=min(len(todo), MAX_BLOCKS))
        worker_args = (config.to_dict(), embedder_spec, models, str(layout.root))
        shards = build_topology(keys, config, worker_args, *cluster_totals(), shards=len(todo))
        try:
            for batch in shards.iter_batches(batch_size=None, batch_format="numpy"):
                progress.update(int(batch["images"].sum()), int(batch["faces"].sum()), int(batch["errors"].sum()))
        finally:
            progress.close()
