"""The one feature store of a run: stored features are written and read here only.

::

    RUN/features/<name>/features.parquet        face_id, feature list<float32>
    RUN/features/<name>/feature_config.json     {"name": extractor, ...settings, "n_faces", "dim"}
    RUN/features/<name>/state.npz               learned arrays (vocabulary, network), if any

``raypipe features`` writes them, ``cluster.feature=<name>``, combinations and sweeps read them;
run folders may be local or remote (see :mod:`raypipe.storage`).
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from raypipe import storage
from raypipe.layout import RunLayout, atomic_write_bytes, atomic_write_text

FEATURE_FILE = "features.parquet"
FEATURE_CONFIG = "feature_config.json"
STATE_FILE = "state.npz"


@dataclass
class FeatureTable:
    """One vector per face: ``vectors[i]`` belongs to ``face_ids[i]``."""

    face_ids: np.ndarray
    vectors: np.ndarray
    config: dict[str, Any]

    def __post_init__(self):
        self.face_ids = np.asarray(self.face_ids, dtype=object)
        self.vectors = np.asarray(self.vectors, dtype=np.float32)
        if len(self.face_ids) != len(self.vectors):
            raise ValueError(f"{len(self.face_ids)} face ids for {len(self.vectors)} vectors")


def write_json(path: Path, data: dict[str, Any]) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


def read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def write_vectors(path: Path, face_ids: np.ndarray, vectors: np.ndarray) -> None:
    """``face_id`` + ``feature`` list<float32> Parquet, written atomically."""
    flat = pa.array(np.ascontiguousarray(vectors, dtype=np.float32).ravel())
    offsets = pa.array(np.arange(len(vectors) + 1, dtype=np.int32) * vectors.shape[1])
    table = pa.table(
        {
            "face_id": pa.array(list(face_ids), pa.string()),
            "feature": pa.ListArray.from_arrays(offsets, flat),
        }
    )
    storage.write_table(path, table)


def read_vectors(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(face_ids, (N, D) float32 vectors) from a file written by :func:`write_vectors`."""
    table = storage.read_table(path, columns=["face_id", "feature"])
    face_ids = np.asarray(table.column("face_id").to_pylist(), dtype=object)
    features = table.column("feature").combine_chunks()
    values = features.values.to_numpy(zero_copy_only=False).astype(np.float32)
    return face_ids, values.reshape(len(face_ids), -1)


@dataclass(frozen=True)
class FeatureStore:
    """The stored features of one run folder."""

    layout: RunLayout

    @classmethod
    def at(cls, run: str | Path) -> FeatureStore:
        return cls(RunLayout.at(run))

    def folder(self, name: str) -> Path:
        return self.layout.features / name

    def names(self) -> list[str]:
        return sorted(p.parent.name for p in self.layout.features.glob(f"*/{FEATURE_FILE}"))

    def save(self, name: str, table: FeatureTable, state: dict[str, np.ndarray] | None = None) -> Path:
        """Store ``table`` (and the extractor's learned ``state``) as feature ``name``."""
        folder = self.folder(name)
        folder.mkdir(parents=True, exist_ok=True)
        write_vectors(folder / FEATURE_FILE, table.face_ids, table.vectors)
        if state:
            sink = io.BytesIO()
            np.savez(sink, **state)
            atomic_write_bytes(folder / STATE_FILE, sink.getvalue())
        config = {**table.config, "n_faces": len(table.face_ids), "dim": int(table.vectors.shape[1])}
        write_json(folder / FEATURE_CONFIG, config)
        return folder

    def load(self, name: str) -> FeatureTable:
        folder = self.folder(name)
        if not (folder / FEATURE_FILE).exists():
            raise FileNotFoundError(
                f"feature {name!r} not found in {self.layout.features}; stored: {self.names() or 'none'}"
            )
        face_ids, vectors = read_vectors(folder / FEATURE_FILE)
        return FeatureTable(face_ids, vectors, self.config(name))

    def config(self, name: str) -> dict[str, Any]:
        """How feature ``name`` was made: the extractor's name and settings, faces, dimension."""
        return read_json(self.folder(name) / FEATURE_CONFIG)

    def load_state(self, name: str) -> dict[str, np.ndarray]:
        """Learned arrays stored with feature ``name`` (empty when it learned nothing)."""
        path = self.folder(name) / STATE_FILE
        if not path.exists():
            return {}
        with np.load(io.BytesIO(path.read_bytes()), allow_pickle=False) as arrays:
            return {key: arrays[key] for key in arrays.files}
