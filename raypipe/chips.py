"""Face chips (aligned JPEGs): stored in the shards that made them, read back by face id.

Each shard's worker writes its chips as one file of the ``chips.parquet/`` dataset (``face_id``,
``jpeg``: the JPEG bytes), beside its ``faces.parquet/`` file, so a run holds a few files per
shard rather than one per face, and scans of ``faces.parquet`` for embeddings never read image
bytes. :class:`ChipStore` reads any set of chips with one read per shard file that holds some
of them; run folders written before the shards held chips (``chips/<face_id>.jpg``) read the same.
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


def chips_table(face_ids: list[str], jpegs: list[bytes]) -> pa.Table:
    """One shard's chips, as its file of ``chips.parquet/`` holds them."""
    return pa.table({"face_id": face_ids, "jpeg": jpegs}, schema=CHIPS_SCHEMA)


def decode_chip(data: bytes) -> np.ndarray:
    """A chip's JPEG bytes as RGB uint8."""
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError("not a decodable chip image")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


class ChipStore:
    """The chips of one run folder: ``chips.parquet/`` shards, or a legacy ``chips/`` folder."""

    def __init__(self, layout: RunLayout):
        self.layout = layout
        self.sharded = layout.chips.exists()

    @cached_property
    def index(self) -> pd.Series:
        """Shard file of each stored chip, by face id (legacy folders: the chip's file)."""
        if self.sharded:
            table = storage.dataset(self.layout.chips).to_table(columns=["face_id", "__filename"])
            files = table.column("__filename").dictionary_encode().to_pandas()
            return pd.Series(files.to_numpy(), index=table.column("face_id").to_pandas(), dtype=files.dtype)
        folder = self.layout.chip_files
        stems = [p.name.removesuffix(".jpg") for p in folder.glob("*.jpg")] if folder.is_dir() else []
        return pd.Series([str(self.layout.chip(f)) for f in stems], index=stems, dtype=object)

    def available(self, face_ids: Iterable[str]) -> np.ndarray:
        """True for each of ``face_ids`` whose chip is stored."""
        return pd.Index(self.index.index).get_indexer(list(face_ids)) >= 0

    def read(self, face_ids: Iterable[str]) -> dict[str, bytes]:
        """JPEG bytes of those ``face_ids`` that have a chip (each shard file read once)."""
        wanted = [f for f in dict.fromkeys(face_ids) if f in self.index.index]
        if not wanted:
            return {}
        if not self.sharded:
            return {f: self.layout.chip(f).read_bytes() for f in wanted}
        return self.read_shards(sorted(set(self.index.loc[wanted].astype(str))), wanted)

    def read_shards(self, files: list[str], face_ids: list[str]) -> dict[str, bytes]:
        """JPEG bytes of those ``face_ids`` in the shard ``files`` (as :attr:`index` names them)."""
        table = storage.dataset(self.layout.chips, files).to_table(
            columns=["face_id", "jpeg"], filter=pc.field("face_id").isin(pa.array(face_ids, pa.string()))
        )
        return dict(zip(table.column("face_id").to_pylist(), table.column("jpeg").to_pylist()))

    def images(self, face_ids: list[str]) -> list[np.ndarray]:
        """The RGB chips of ``face_ids``, in order; FileNotFoundError names the first missing."""
        found = self.read(face_ids)
        missing = next((f for f in face_ids if f not in found), None)
        if missing is not None:
            raise FileNotFoundError(
                f"no chip of face {missing} in {self.layout.root} (was the run extracted with save_chips?)"
            )
        return [decode_chip(found[f]) for f in face_ids]
