"""Extraction: inputs -> Ray Data (detect + align, embed) -> shards -> faces/images/errors tables."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from raypipe import storage
from raypipe.comic.archives import expand_archives
from raypipe.config import Config
from raypipe.detect.crops import choose_crop_detector
from raypipe.detect.select import resolve_detector
from raypipe.embed import EMBEDDERS
from raypipe.embed.select import resolve_embedder
from raypipe.errors import UsageError
from raypipe.ids import image_id
from raypipe.io.inputs import list_inputs
from raypipe.layout import RunLayout, atomic_write_text
from raypipe.pipeline.resources import StagePlan, cluster_totals, plan_fused, plan_stages
from raypipe.pipeline.shards import (
    ERRORS_SCHEMA,
    TABLES,
    TIMING_COLUMNS,
    ShardWriter,
    completed_shards,
    table_path,
)
from raypipe.ray_session import ensure_ray
from raypipe.registry import split_spec

log = logging.getLogger(__name__)


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
    listing = list_inputs(inputs, accept_archives=extract_config.domain == "comic")
    listing.images, refused = expand_archives(listing.images)
    listing.skipped.extend(refused)
    if extract_config.detect_crops and extract_config.domain == "photo":
        extract_config.detector = choose_crop_detector(
            extract_config.detector, listing.images, extract_config.max_image_pixels
        )
    extract_config.detector = resolve_detector(extract_config.detector, extract_config.domain, extract_config.model_root)
    embedder_spec = resolve_embedder(
        extract_config.embedder, extract_config.model_root, extract_config.domain, extract_config.auto_fetch
    )
    extract_config.embedder = embedder_spec
    _claim_folder(layout, config, overwrite)
    ids = {uri: image_id(uri) for uri in listing.images}
    done = completed_shards(layout)
    finished = {i for marker in done.values() for i in marker["image_ids"]}
    todo = [uri for uri in listing.images if ids[uri] not in finished]
    log.info(
        "%d images (%d already extracted), %d other files skipped", len(listing.images),
        len(listing.images) - len(todo), len(listing.skipped),
    )  # fmt: skip
    embedder = EMBEDDERS.build(embedder_spec)
    models = {"detector": split_spec(config.extract.detector)[0], "embedder": embedder.model_name}
    new_shards = _run_pipeline(layout, config, todo, ids, embedder_spec, embedder, models, first_shard=max(done, default=-1) + 1)
    result = _merge(layout, set(ids.values()), listing.skipped)
    return ExtractResult(
        **result,
        skipped_shards=len(done),
        new_shards=new_shards,
        seconds=time.perf_counter() - started,
        stage_seconds=_stage_seconds(layout),
        models=models,
    )


#: Extract settings that do not change what an extraction holds (the detector and embedder
#: they led to are recorded): changing them does not make a run folder stale.
UNRECORDED = ("shard_size", "auto_fetch", "detect_crops")


def _claim_folder(layout: RunLayout, config: Config, overwrite: bool) -> None:
    """Record the extraction settings; refuse to mix shards made with other settings."""
    fingerprint_file = layout.shards / "extract_config.json"
    settings = json.dumps({k: v for k, v in config.to_dict()["extract"].items() if k not in UNRECORDED}, sort_keys=True)
    if fingerprint_file.exists() and fingerprint_file.read_text(encoding="utf-8") != settings:
        if not overwrite:
            raise RunMismatchError(
                f"{layout.root} holds an extraction made with other extract settings; use "
                "--overwrite to redo it, or another output folder"
            )
        for path in layout.shards.glob("*"):
            path.unlink()
    atomic_write_text(fingerprint_file, settings)


def _run_pipeline(layout, config, todo, ids, embedder_spec, embedder, models, first_shard: int) -> int:
    if not todo:
        return 0
    import ray.data

    ensure_ray(config.ray.address)
    size = config.extract.shard_size
    shard_of = {uri: first_shard + i // size for i, uri in enumerate(todo)}
    shard_images: dict[int, list[str]] = {}
    for uri in todo:
        shard_images.setdefault(shard_of[uri], []).append(ids[uri])
    from raypipe.detect import DETECTORS
    from raypipe.pipeline.stages import DetectEmbedStage

    detector = DETECTORS.resolve(split_spec(config.extract.detector)[0])
    cpus, gpus = cluster_totals()
    items = [{"image_path": uri, "image_id": ids[uri], "shard": shard_of[uri]} for uri in todo]
    dataset = ray.data.from_items(items, override_num_blocks=max(1, min(len(items), len(items) // 2 or 1)))
    detect_gpu, embed_gpu = wants_gpu(detector, config.extract.detector), wants_gpu(embedder, embedder_spec)
    if gpus == 0 or not (detect_gpu or embed_gpu):
        plan = plan_fused(config.ray, config.extract, cpus)
        dataset = dataset.map_batches(
            DetectEmbedStage, fn_constructor_args=(config.to_dict(), embedder_spec), batch_format="numpy",
            **plan.map_batches_args(),
        )  # fmt: skip
    else:
        dataset = _gpu_stages(dataset, config, embedder_spec, *plan_stages(config.ray, config.extract, detect_gpu, embed_gpu, cpus, gpus))
    writer = ShardWriter(layout, shard_images, models, config.extract.save_chips)
    for batch in dataset.iter_batches(batch_size=None, batch_format="numpy"):
        writer.add_batch(batch)
    if writer.pending():
        raise RuntimeError(f"shards never completed: {writer.pending()}")
    return len(writer.written)


COMIC_TABLES = ("panels", "texts")


def wants_gpu(component, spec: dict) -> bool:
    """Whether a stage should ask for GPUs: its model (a class or an instance) can run on one
    and is not pinned to the CPU. Decided from the class, not from the driver's hardware: the
    driver may sit on a CPU-only head node of a GPU cluster."""
    device = str(split_spec(spec)[1].get("device", "auto"))
    return component.gpu_capable and device != "cpu"


def _gpu_stages(dataset, config: Config, embedder_spec: dict, detect_plan: StagePlan, embed_plan: StagePlan):
    """Detection and embedding pools of their own, sized for the GPUs; decoding as CPU tasks
    when detection holds a GPU, so that it scales with the cluster's CPUs."""
    from raypipe.pipeline.stages import DetectAlignStage, EmbedStage, decode_batch

    if detect_plan.num_gpus:
        dataset = dataset.map_batches(
            decode_batch,
            fn_kwargs={"extract_config": config.to_dict()["extract"]},
            batch_size=config.extract.detect_batch_size,
            batch_format="numpy",
            num_cpus=1,
        )
    return dataset.map_batches(
        DetectAlignStage, fn_constructor_args=(config.to_dict(), embedder_spec), batch_format="numpy",
        **detect_plan.map_batches_args(),
    ).map_batches(
        EmbedStage, fn_constructor_args=(embedder_spec,), batch_format="numpy", **embed_plan.map_batches_args(),
    )  # fmt: skip


def _merge(layout: RunLayout, current: set[str], skipped: list[tuple[str, str]]) -> dict[str, int]:
    """Join the finished shards' tables into the run's tables (only images still among the inputs)."""
    merged = {}
    shards = sorted(completed_shards(layout))
    keep = pa.array(sorted(current), pa.string())
    for name in TABLES:
        parts = [storage.read_table(table_path(layout, s, name)) for s in shards]
        if name == "errors":
            parts.append(pa.Table.from_pylist([{"image_path": p, "stage": "input", "reason": r} for p, r in skipped], schema=ERRORS_SCHEMA))
            table = pa.concat_tables(parts, promote_options="default")
        else:
            table = pa.concat_tables(parts, promote_options="default") if parts else None
            if table is None:
                continue
            table = table.filter(pc.is_in(table["image_id"], keep))
        if name in COMIC_TABLES and table.num_rows == 0:
            continue  # photos have no panels or text regions
        index = {"faces": [("face_index", "ascending")], "panels": [("panel_index", "ascending")]}.get(name, [])
        table = table.sort_by([("image_path", "ascending"), *index])
        storage.write_table(getattr(layout, name), table)
        merged[name] = table
    images = merged.get("images")
    status = images["status"].to_pylist() if images is not None else []
    return {
        "images": len(status) + len(skipped),
        "faces": merged["faces"].num_rows if "faces" in merged else 0,
        "no_face": status.count("no_face"),
        "errors": merged["errors"].num_rows,
    }


def _stage_seconds(layout: RunLayout) -> dict[str, float]:
    markers = completed_shards(layout).values()
    return {c.removesuffix("_s"): round(sum(m["timings"].get(c, 0.0) for m in markers), 3) for c in TIMING_COLUMNS}
