"""Shards: the unit of atomic output and of resume.

Inputs are cut into shards of ``shard_size`` images. The driver gathers the rows of a shard as
they stream in and, once every image of it is accounted for, writes its tables and chips and
then, last, its marker ``_shards/<shard>.done.json``. A restarted run skips the images of
marked shards, so finished work is never redone and never duplicated.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from pathlib import Path

import numpy as np
import pyarrow as pa

from raypipe import storage
from raypipe.ids import face_id
from raypipe.layout import RunLayout, atomic_write_bytes, atomic_write_text
from raypipe.pipeline.records import ERROR, FACE, PANEL, TEXT

log = logging.getLogger(__name__)

TIMING_COLUMNS = ("decode_s", "detect_s", "align_s", "embed_s")
TABLES = ("faces", "images", "errors", "panels", "texts")


def marker_path(layout: RunLayout, shard: int) -> Path:
    """``_shards/<shard>.done.json`` (a :class:`raypipe.storage.StoragePath` for remote runs)."""
    return layout.shards / f"{shard:06d}.done.json"


def table_path(layout: RunLayout, shard: int, table: str) -> Path:
    return layout.shards / f"{shard:06d}.{table}.parquet"


def completed_shards(layout: RunLayout) -> dict[int, dict]:
    """Markers of finished shards: shard number -> marker contents."""
    done = {}
    for path in sorted(layout.shards.glob("*.done.json")):
        done[int(path.name.split(".")[0])] = json.loads(path.read_text(encoding="utf-8"))
    return done


class ShardWriter:
    """Collects streamed rows per shard and writes each shard once all its images arrived."""

    def __init__(self, layout: RunLayout, shard_images: dict[int, list[str]], model_names: dict[str, str], save_chips: bool):
        self.layout = layout
        self.model_names = model_names
        self.save_chips = save_chips
        self._expected = {shard: set(ids) for shard, ids in shard_images.items()}
        self._rows: dict[int, list[dict]] = defaultdict(list)
        self._rows_left: dict[str, int] = {}
        self._finished_images: dict[int, set[str]] = defaultdict(set)
        self.written: list[int] = []

    def add_batch(self, batch: dict[str, np.ndarray]) -> None:
        columns = list(batch)
        for i in range(len(batch["kind"])):
            self._add_row({c: batch[c][i] for c in columns})

    def _add_row(self, row: dict) -> None:
        shard, image = int(row["shard"]), str(row["image_id"])
        self._rows[shard].append(row)
        left = self._rows_left.setdefault(image, int(row["n_rows"])) - 1
        self._rows_left[image] = left
        if left > 0:
            return
        del self._rows_left[image]
        self._finished_images[shard].add(image)
        if self._finished_images[shard] >= self._expected[shard]:
            self._write(shard)

    def pending(self) -> list[int]:
        return sorted(set(self._expected) - set(self.written))

    def _write(self, shard: int) -> None:
        rows = self._rows.pop(shard)
        faces = [r for r in rows if r["kind"] == FACE]
        tables = {
            "faces": self._faces_table(faces),
            "images": _images_table(rows),
            "errors": _errors_table([r for r in rows if r["kind"] == ERROR]),
            "panels": _regions_table([r for r in rows if r["kind"] == PANEL], with_panel=True),
            "texts": _regions_table([r for r in rows if r["kind"] == TEXT], with_panel=False),
        }
        if self.save_chips:
            for row in faces:
                chip = self.layout.chip(face_id(str(row["image_id"]), int(row["face_index"])))
                atomic_write_bytes(chip, bytes(row["chip_jpeg"]))
            for row in rows:
                if row["kind"] == PANEL:
                    crop = self.layout.panel_crop(str(row["image_id"]), int(row["panel_index"]))
                    atomic_write_bytes(crop, bytes(row["chip_jpeg"]))
        for name, table in tables.items():
            storage.write_table(table_path(self.layout, shard, name), table)
        timings = {c: float(sum(float(r.get(c, 0.0)) for r in rows)) for c in TIMING_COLUMNS}
        marker = {
            "shard": shard,
            "image_ids": sorted(self._expected[shard]),
            "faces": len(faces),
            "errors": tables["errors"].num_rows,
            "timings": timings,
        }
        atomic_write_text(marker_path(self.layout, shard), json.dumps(marker))
        self.written.append(shard)
        log.debug("shard %d written: %d images, %d faces", shard, len(self._expected[shard]), len(faces))

    def _faces_table(self, faces: list[dict]) -> pa.Table:
        ids = [face_id(str(r["image_id"]), int(r["face_index"])) for r in faces]
        return pa.table(
            {
                "face_id": pa.array(ids, pa.string()),
                "image_id": pa.array([str(r["image_id"]) for r in faces], pa.string()),
                "image_path": pa.array([str(r["image_path"]) for r in faces], pa.string()),
                "face_index": pa.array([int(r["face_index"]) for r in faces], pa.int32()),
                "panel_index": pa.array([int(r["panel_index"]) for r in faces], pa.int32()),
                **{c: pa.array([float(r[c]) for r in faces], pa.float32()) for c in ("x1", "y1", "x2", "y2", "det_score")},
                "landmarks": pa.array([np.asarray(r["landmarks"], np.float32) for r in faces], pa.list_(pa.float32())),
                "embedding": pa.array([np.asarray(r["embedding"], np.float32) for r in faces], pa.list_(pa.float32())),
                "detector": pa.array([self.model_names["detector"]] * len(faces), pa.string()),
                "embedder": pa.array([self.model_names["embedder"]] * len(faces), pa.string()),
                **{c: pa.array([float(r[c]) for r in faces], pa.float32()) for c in ("face_px", "sharpness", "yaw")},
            }
        )


def _images_table(rows: list[dict]) -> pa.Table:
    images: dict[str, dict] = {}
    for r in rows:
        entry = images.setdefault(
            str(r["image_id"]),
            {"image_id": str(r["image_id"]), "image_path": str(r["image_path"]), "status": str(r["kind"]),
             "n_faces": 0, "width": int(r["width"]), "height": int(r["height"])},
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
        [{"image_path": str(r["image_path"]), "stage": str(r["stage"]), "reason": str(r["reason"])} for r in rows],
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
