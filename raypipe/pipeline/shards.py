"""Shards: the unit of atomic output and of resume, written by the worker that processed them.

A shard's rows go to one file per table, ``<table>.parquet/<key>.parquet`` (each written
atomically; its faces' chips are the table ``chips.parquet/``, comic panel crops the table
``panel_crops.parquet/``), and then, last, its marker ``_shards/<key>.done.json`` with its counts, stage
timings and the id of the node that wrote it. A table is the folder of its shards' files: a
Parquet dataset. A restarted run skips shards with a marker and deletes
the files of shards without one (a run killed while writing them), so finished work is never
redone and no image is counted twice.
"""

from __future__ import annotations

import json
import logging

import numpy as np
import pyarrow as pa

from raypipe import storage
from raypipe.chips import chips_table, panel_crops_table
from raypipe.ids import face_id, panel_id
from raypipe.layout import TABLES, RunLayout, atomic_write_text
from raypipe.pipeline.work import ShardWork

log = logging.getLogger(__name__)

TIMING_COLUMNS = ("decode_s", "detect_s", "align_s", "embed_s")
COMIC_TABLES = ("panels", "panel_crops", "texts")
NO_FACE = "no_face"


def marker_path(layout: RunLayout, key: str):
    """``_shards/<key>.done.json`` (a :class:`raypipe.storage.StoragePath` for remote runs)."""
    return layout.shards / f"{key}.done.json"


def finished_marker(layout: RunLayout, key: str) -> dict | None:
    """The marker of shard ``key`` if it is finished, else ``None``."""
    path = marker_path(layout, key)
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def completed_shards(layout: RunLayout) -> dict[str, dict]:
    """Markers of finished shards: shard key -> marker contents."""
    return {
        path.name.removesuffix(".done.json"): json.loads(path.read_text(encoding="utf-8"))
        for path in layout.shards.glob("*.done.json")
    }


def write_table_part(layout: RunLayout, table: str, part: str, rows: pa.Table) -> None:
    """One file of a table's dataset, written atomically."""
    storage.write_table(getattr(layout, table) / f"{part}.parquet", rows)


def remove_unfinished(layout: RunLayout, keep: set[str]) -> None:
    """Delete the table files and markers of shards not in ``keep`` (error files of skipped
    inputs are the listing's); a killed run's half-written shard goes this way."""
    for table in TABLES:
        folder = getattr(layout, table)
        for path in folder.glob("*.parquet") if folder.is_dir() else []:
            key = path.name.removesuffix(".parquet")
            if key not in keep and not key.startswith("input-"):
                path.unlink()
    for path in layout.shards.glob("*.done.json"):
        if path.name.removesuffix(".done.json") not in keep:
            path.unlink()


def write_shard(layout: RunLayout, work: ShardWork, models: dict[str, str], save_chips: bool, node: str) -> dict:
    """Write the tables and chips of one shard, then its marker; return the marker. A shard
    already finished is left as it is and its marker returned: Ray re-runs a task whose output
    was lost with its node, and the shard that task wrote stays as that node wrote it."""
    if (finished := finished_marker(layout, work.key)) is not None:
        return finished
    faces, images = work.faces, work.images
    ids = [face_id(images["image_id"][i], n) for i, n in zip(faces["image"], faces["face_index"])]
    n_faces = np.bincount(np.asarray(faces["image"], np.int64), minlength=len(images["status"]))
    status = [s or ("faces" if n else NO_FACE) for s, n in zip(images["status"], n_faces)]
    image_columns = {"image_id": images["image_id"], "image_path": images["image_path"], "status": status,
                     "n_faces": n_faces, "width": images["width"], "height": images["height"]}  # fmt: skip
    tables = {
        "faces": _faces_table(work, ids, models),
        "images": pa.table(image_columns, schema=IMAGES_SCHEMA),
        "errors": pa.table(work.errors, schema=ERRORS_SCHEMA),
        "panels": _regions_table(work, work.panels, PANELS_SCHEMA),
        "texts": _regions_table(work, work.texts, TEXTS_SCHEMA),
    }
    if save_chips:
        tables["chips"] = chips_table(ids, faces["chip_jpeg"])
        panels = work.panels
        crops = [panel_id(images["image_id"][i], p) for i, p in zip(panels["image"], panels.get("panel_index", []))]
        tables["panel_crops"] = panel_crops_table(crops, panels.get("chip_jpeg", []))
    for name, table in tables.items():
        if table.num_rows or name not in COMIC_TABLES:  # photos have no panels or text regions
            write_table_part(layout, name, work.key, table)
    marker = {
        "shard": work.key, "node": node, "images": len(status), "faces": len(ids),
        "no_face": status.count(NO_FACE), "errors": tables["errors"].num_rows, "image_ids": images["image_id"],
        "timings": {c: round(work.timings.get(c, 0.0), 6) for c in TIMING_COLUMNS},
    }  # fmt: skip
    atomic_write_text(marker_path(layout, work.key), json.dumps(marker))
    log.debug("shard %s written on node %s: %d images, %d faces", work.key, node, len(status), len(ids))
    return marker


def _image_column(work: ShardWork, table: dict[str, list], column: str) -> list:
    return [work.images[column][i] for i in table["image"]]


def _boxes(boxes: list) -> dict[str, np.ndarray]:
    values = np.asarray(boxes, np.float32).reshape(-1, 4)
    return {name: values[:, n] for n, name in enumerate(("x1", "y1", "x2", "y2"))}


def _vectors(values: np.ndarray) -> pa.Array:
    values = np.ascontiguousarray(values, np.float32)
    return pa.FixedSizeListArray.from_arrays(values.reshape(-1), values.shape[1]).cast(pa.list_(pa.float32()))


def _faces_table(work: ShardWork, ids: list[str], models: dict[str, str]) -> pa.Table:
    faces = work.faces
    count = len(ids)
    landmarks = np.stack(faces["landmarks"]) if count else np.zeros((0, 10), np.float32)
    columns = {
        "face_id": ids, "image_id": _image_column(work, faces, "image_id"), "image_path": _image_column(work, faces, "image_path"),
        "face_index": faces["face_index"], "panel_index": faces["panel_index"], **_boxes(faces["box"]),
        "det_score": faces["det_score"], "landmarks": _vectors(landmarks), "embedding": _vectors(faces["embedding"]),
        "detector": [models["detector"]] * count, "embedder": [models["embedder"]] * count,
        **{c: faces[c] for c in ("face_px", "sharpness", "yaw")},
    }  # fmt: skip
    return pa.table(columns, schema=FACES_SCHEMA)


def _regions_table(work: ShardWork, regions: dict[str, list], schema: pa.Schema) -> pa.Table:
    """Panels (with their reading-order index) or text regions, boxes in original pixels."""
    columns = {"image_id": _image_column(work, regions, "image_id"), "image_path": _image_column(work, regions, "image_path"),
               **{c: regions.get(c, []) for c in ("panel_index", "kind") if c in schema.names},
               **_boxes(regions.get("box", []))}  # fmt: skip
    return pa.table(columns, schema=schema)


IMAGES_SCHEMA = pa.schema(
    [("image_id", pa.string()), ("image_path", pa.string()), ("status", pa.string()),
     ("n_faces", pa.int32()), ("width", pa.int32()), ("height", pa.int32())]
)  # fmt: skip
ERRORS_SCHEMA = pa.schema([("image_path", pa.string()), ("stage", pa.string()), ("reason", pa.string())])
_BOX = [("x1", pa.float32()), ("y1", pa.float32()), ("x2", pa.float32()), ("y2", pa.float32())]
PANELS_SCHEMA = pa.schema([("image_id", pa.string()), ("image_path", pa.string()), ("panel_index", pa.int32()), *_BOX])
TEXTS_SCHEMA = pa.schema([("image_id", pa.string()), ("image_path", pa.string()), ("kind", pa.string()), *_BOX])
_FLOATS = [(c, pa.float32()) for c in ("face_px", "sharpness", "yaw")]
FACES_SCHEMA = pa.schema(
    [("face_id", pa.string()), ("image_id", pa.string()), ("image_path", pa.string()), ("face_index", pa.int32()),
     ("panel_index", pa.int32()), *_BOX, ("det_score", pa.float32()), ("landmarks", pa.list_(pa.float32())),
     ("embedding", pa.list_(pa.float32())), ("detector", pa.string()), ("embedder", pa.string()), *_FLOATS]
)  # fmt: skip
