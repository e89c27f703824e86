"""Shards: the unit of atomic output and of resume, written by the worker that processed them.

A shard's rows go to one file per table, ``<table>.parquet/<key>.parquet`` (each written
atomically), its chips to ``chips/``, and then, last, its marker ``_shards/<key>.done.json``
with its counts, stage timings and the id of the node that wrote it. A table is the folder of
its shards' files: a Parquet dataset. A restarted run skips shards with a marker and deletes
the files of shards without one (a run killed while writing them), so finished work is never
redone and no image is counted twice.
"""

from __future__ import annotations

import json
import logging

import numpy as np
import pyarrow as pa

from raypipe import storage
from raypipe.ids import face_id
from raypipe.layout import TABLES, RunLayout, atomic_write_bytes, atomic_write_text
from raypipe.pipeline.records import ERROR, FACE, PANEL, TEXT

log = logging.getLogger(__name__)

TIMING_COLUMNS = ("decode_s", "detect_s", "align_s", "embed_s")
COMIC_TABLES = ("panels", "texts")


def marker_path(layout: RunLayout, key: str):
    """``_shards/<key>.done.json`` (a :class:`raypipe.storage.StoragePath` for remote runs)."""
    return layout.shards / f"{key}.done.json"


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


def write_shard(layout: RunLayout, key: str, rows: list[dict], models: dict[str, str], save_chips: bool,
                timings: dict[str, float], node: str) -> dict:  # fmt: skip
    """Write the tables and chips of one shard, then its marker; return the marker."""
    faces = [r for r in rows if r["kind"] == FACE]
    tables = {
        "faces": _faces_table(faces, models),
        "images": _images_table(rows),
        "errors": _errors_table([r for r in rows if r["kind"] == ERROR]),
        "panels": _regions_table([r for r in rows if r["kind"] == PANEL], with_panel=True),
        "texts": _regions_table([r for r in rows if r["kind"] == TEXT], with_panel=False),
    }
    if save_chips:
        for row in faces:
            atomic_write_bytes(layout.chip(face_id(row["image_id"], row["face_index"])), row["chip_jpeg"])
        for row in rows:
            if row["kind"] == PANEL:
                atomic_write_bytes(layout.panel_crop(row["image_id"], row["panel_index"]), row["chip_jpeg"])
    for name, table in tables.items():
        if table.num_rows or name not in COMIC_TABLES:  # photos have no panels or text regions
            write_table_part(layout, name, key, table)
    status = tables["images"]["status"].to_pylist()
    marker = {
        "shard": key, "node": node, "images": len(status), "faces": len(faces),
        "no_face": status.count("no_face"), "errors": tables["errors"].num_rows,
        "image_ids": tables["images"]["image_id"].to_pylist(),
        "timings": {c: round(timings.get(c, 0.0), 6) for c in TIMING_COLUMNS},
    }  # fmt: skip
    atomic_write_text(marker_path(layout, key), json.dumps(marker))
    log.debug("shard %s written on node %s: %d images, %d faces", key, node, len(status), len(faces))
    return marker


def _faces_table(faces: list[dict], models: dict[str, str]) -> pa.Table:
    def floats(column: str) -> pa.Array:
        return pa.array([r[column] for r in faces], pa.float32())

    def vectors(column: str) -> pa.Array:
        if not faces:
            return pa.array([], pa.list_(pa.float32()))
        values = np.stack([r[column] for r in faces]).astype(np.float32)
        return pa.FixedSizeListArray.from_arrays(values.reshape(-1), values.shape[1]).cast(pa.list_(pa.float32()))

    return pa.table(
        {
            "face_id": pa.array([face_id(r["image_id"], r["face_index"]) for r in faces], pa.string()),
            "image_id": pa.array([r["image_id"] for r in faces], pa.string()),
            "image_path": pa.array([r["image_path"] for r in faces], pa.string()),
            "face_index": pa.array([r["face_index"] for r in faces], pa.int32()),
            "panel_index": pa.array([r["panel_index"] for r in faces], pa.int32()),
            **{c: floats(c) for c in ("x1", "y1", "x2", "y2", "det_score")},
            "landmarks": vectors("landmarks"),
            "embedding": vectors("embedding"),
            "detector": pa.array([models["detector"]] * len(faces), pa.string()),
            "embedder": pa.array([models["embedder"]] * len(faces), pa.string()),
            **{c: floats(c) for c in ("face_px", "sharpness", "yaw")},
        }
    )


def _images_table(rows: list[dict]) -> pa.Table:
    images: dict[str, dict] = {}
    for r in rows:
        entry = images.setdefault(
            r["image_id"],
            {"image_id": r["image_id"], "image_path": r["image_path"], "status": r["kind"],
             "n_faces": 0, "width": r["width"], "height": r["height"]},
        )  # fmt: skip
        if r["kind"] == FACE:
            entry["status"] = "faces"
            entry["n_faces"] += 1
    return pa.Table.from_pylist(list(images.values()), schema=IMAGES_SCHEMA)


def _regions_table(rows: list[dict], with_panel: bool) -> pa.Table:
    """Panels (with their reading-order index) or text regions, boxes in original pixels."""
    columns = ["image_id", "image_path"] + (["panel_index"] if with_panel else []) + ["x1", "y1", "x2", "y2"]
    records = [{c: r[c] for c in columns} for r in rows]
    return pa.Table.from_pylist(records, schema=PANELS_SCHEMA if with_panel else TEXTS_SCHEMA)


def _errors_table(rows: list[dict]) -> pa.Table:
    return pa.Table.from_pylist(
        [{"image_path": r["image_path"], "stage": r["stage"], "reason": r["reason"]} for r in rows],
        schema=ERRORS_SCHEMA,
    )


IMAGES_SCHEMA = pa.schema(
    [("image_id", pa.string()), ("image_path", pa.string()), ("status", pa.string()),
     ("n_faces", pa.int32()), ("width", pa.int32()), ("height", pa.int32())]
)  # fmt: skip
ERRORS_SCHEMA = pa.schema([("image_path", pa.string()), ("stage", pa.string()), ("reason", pa.string())])
_BOX = [("x1", pa.float32()), ("y1", pa.float32()), ("x2", pa.float32()), ("y2", pa.float32())]
PANELS_SCHEMA = pa.schema([("image_id", pa.string()), ("image_path", pa.string()), ("panel_index", pa.int32()), *_BOX])
TEXTS_SCHEMA = pa.schema([("image_id", pa.string()), ("image_path", pa.string()), *_BOX])
