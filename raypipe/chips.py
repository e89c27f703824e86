"""Face chips (aligned JPEGs) and comic panel crops: stored in the shards that made them.

Each shard's worker writes its chips as one file of the ``chips.parquet/`` dataset (``face_id``,
``jpeg``: the JPEG bytes), beside its ``faces.parquet/`` file, and a comic's panel crops as one
file of ``panel_crops.parquet/`` (``panel_id``: :func:`raypipe.ids.panel_id`, ``jpeg``), so a
run holds a few files per shard rather than one per face or panel, and scans of
``faces.parquet`` for embeddings never read image bytes. :class:`ChipStore` reads any set of
them with one read per shard file that holds some; run folders written before the shards held
them (``chips/<face_id>.jpg``, ``panels/<panel_id>.jpg``) read the same.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property

import cv2
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from raypipe import storage
from raypipe.layout import RunLayout

CHIPS_SCHEMA = pa.schema([("face_id", pa.string()), ("jpeg", pa.binary())])
PANEL_CROPS_SCHEMA = pa.schema([("panel_id", pa.string()), ("jpeg", pa.binary())])


def chips_table(face_ids: list[str], jpegs: list[bytes]) -> pa.Table:
    """One shard's chips, as its file of ``chips.parquet/`` holds them."""
    return pa.table({"face_id": face_ids, "jpeg": jpegs}, schema=CHIPS_SCHEMA)


def panel_crops_table(panel_ids: list[str], jpegs: list[bytes]) -> pa.Table:
    """One shard's panel crops, as its file of ``panel_crops.parquet/`` holds them."""
    return pa.table({"panel_id": panel_ids, "jpeg": jpegs}, schema=PANEL_CROPS_SCHEMA)


def decode_chip(data: bytes) -> np.ndarray:
    """A chip's JPEG bytes as RGB uint8."""
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError("not a decodable chip image")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


class ChipStore:
    """The chips of one run folder: ``chips.parquet/`` shards, or a legacy ``chips/`` folder;
    with ``panels``, its panel crops by panel id (``panel_crops.parquet/``, legacy ``panels/``)."""

    def __init__(self, layout: RunLayout, panels: bool = False):
        self.layout = layout
        self.dataset = layout.panel_crops if panels else layout.chips
        self.folder = layout.panel_crop_files if panels else layout.chip_files
        self.key = "panel_id" if panels else "face_id"
        self.sharded = self.dataset.exists()

    @cached_property
    def index(self) -> pd.Series:
        """Shard file of each stored chip, by id (legacy folders: the chip's file)."""
        if self.sharded:
            table = storage.dataset(self.dataset).to_table(columns=[self.key, "__filename"])
            files = table.column("__filename").dictionary_encode().to_pandas()
            return pd.Series(files.to_numpy(), index=table.column(self.key).to_pandas(), dtype=files.dtype)
        folder = self.folder
        stems = [p.name.removesuffix(".jpg") for p in folder.glob("*.jpg")] if folder.is_dir() else []
        return pd.Series([str(self.legacy_file(f)) for f in stems], index=stems, dtype=object)

    def legacy_file(self, key: str):
        """A chip's own file in a run folder of an earlier version."""
        return self.folder / f"{key}.jpg"

    def available(self, ids: Iterable[str]) -> np.ndarray:
        """True for each of ``ids`` (face ids, or panel ids) whose chip is stored."""
        return pd.Index(self.index.index).get_indexer(list(ids)) >= 0

    def read(self, ids: Iterable[str]) -> dict[str, bytes]:
        """JPEG bytes of those ``ids`` that have a chip (each shard file read once)."""
        wanted = [f for f in dict.fromkeys(ids) if f in self.index.index]
        if not wanted:
            return {}
        if not self.sharded:
            return {f: self.legacy_file(f).read_bytes() for f in wanted}
        return self.read_shards(sorted(set(self.index.loc[wanted].astype(str))), wanted)

    def read_shards(self, files: list[str], ids: list[str]) -> dict[str, bytes]:
        """JPEG bytes of those ``ids`` in the shard ``files`` (as :attr:`index` names them)."""
        table = storage.dataset(self.dataset, files).to_table(
            columns=[self.key, "jpeg"], filter=pc.field(self.key).isin(pa.array(ids, pa.string()))
        )
        return dict(zip(table.column(self.key).to_pylist(), table.column("jpeg").to_pylist()))

    def images(self, ids: list[str]) -> list[np.ndarray]:
        """The RGB chips of ``ids``, in order; FileNotFoundError names the first missing."""
        found = self.read(ids)
        missing = next((f for f in ids if f not in found), None)
        if missing is not None:
            what = "panel" if self.key == "panel_id" else "face"
            raise FileNotFoundError(
                f"no chip of {what} {missing} in {self.layout.root} (was the run extracted with save_chips?)"
            )
        return [decode_chip(found[f]) for f in ids]
