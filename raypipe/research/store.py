"""Where research results live in a run folder, and how they are written and read.

::

    RUN/features/<name>/features.parquet        face_id, feature list<float32>
    RUN/features/<name>/feature_config.json     {"name": extractor, ...settings, "n_faces", "dim"}
    RUN/features/<name>/state.npz               learned arrays (vocabulary, network), if any
    RUN/reductions/<method>/<run-id>/reduced.parquet, reducer_config.json
    RUN/reductions/<method>/<run-id>/clustering/<clusterer>/<run-id>/
        clusters.csv (face_id, cluster), clustering_config.json, metrics.json
    RUN/results/results.csv                     one row per feature x reduction x clustering

Run ids are digests of the configs, so rerunning a configuration overwrites its folder.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from raypipe.layout import RunLayout, atomic_write_bytes, atomic_write_text

FEATURE_FILE = "features.parquet"
FEATURE_CONFIG = "feature_config.json"
STATE_FILE = "state.npz"
REDUCED_FILE = "reduced.parquet"
REDUCER_CONFIG = "reducer_config.json"
CLUSTERING_CONFIG = "clustering_config.json"
METRICS_FILE = "metrics.json"
RESULTS_FILE = "results.csv"
#: Results are ranked by BCubed F, the score the README recommends for comparing clusterings
#: (it weighs every face equally and penalises both merges and splits).
RANK_METRIC = "bcubed_f"


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


def config_id(config: dict[str, Any]) -> str:
    """Short stable digest of a JSON-ready config."""
    canonical = json.dumps(config, sort_keys=True, default=str)
    return hashlib.sha1(canonical.encode("utf-8")).hexdigest()[:10]


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
    sink = io.BytesIO()
    pq.write_table(table, sink)
    atomic_write_bytes(path, sink.getvalue())


def read_vectors(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(face_ids, (N, D) float32 vectors) from a file written by :func:`write_vectors`."""
    table = pq.read_table(path, columns=["face_id", "feature"])
    face_ids = np.asarray(table.column("face_id").to_pylist(), dtype=object)
    features = table.column("feature").combine_chunks()
    values = features.values.to_numpy(zero_copy_only=False).astype(np.float32)
    return face_ids, values.reshape(len(face_ids), -1)


@dataclass(frozen=True)
class ResultStore:
    """Research outputs of one run folder."""

    layout: RunLayout

    @classmethod
    def at(cls, run: str | Path) -> ResultStore:
        return cls(RunLayout.at(run))

    # features
    def feature_dir(self, name: str) -> Path:
        return self.layout.features / name

    def feature_names(self) -> list[str]:
        return sorted(p.parent.name for p in self.layout.features.glob(f"*/{FEATURE_FILE}"))

    def save_feature(
        self, name: str, table: FeatureTable, state: dict[str, np.ndarray] | None = None
    ) -> Path:
        folder = self.feature_dir(name)
        folder.mkdir(parents=True, exist_ok=True)
        write_vectors(folder / FEATURE_FILE, table.face_ids, table.vectors)
        if state:
            sink = io.BytesIO()
            np.savez(sink, **state)
            atomic_write_bytes(folder / STATE_FILE, sink.getvalue())
        config = {
            **table.config,
            "n_faces": len(table.face_ids),
            "dim": int(table.vectors.shape[1]),
        }
        write_json(folder / FEATURE_CONFIG, config)
        return folder

    def load_feature(self, name: str) -> FeatureTable:
        folder = self.feature_dir(name)
        if not (folder / FEATURE_FILE).exists():
            raise FileNotFoundError(
                f"feature {name!r} not found in {self.layout.features}; stored: {self.feature_names() or 'none'}"
            )
        face_ids, vectors = read_vectors(folder / FEATURE_FILE)
        return FeatureTable(face_ids, vectors, read_json(folder / FEATURE_CONFIG))

    def load_state(self, name: str) -> dict[str, np.ndarray]:
        """Learned arrays stored with feature ``name`` (empty when it learned nothing)."""
        path = self.feature_dir(name) / STATE_FILE
        if not path.exists():
            return {}
        with np.load(path, allow_pickle=False) as arrays:
            return {key: arrays[key] for key in arrays.files}

    # reductions
    def save_reduction(self, feature: str, reducer: dict[str, Any], table: FeatureTable) -> Path:
        """Store ``table`` (the reduced ``feature``) under ``reductions/<method>/<run-id>/``."""
        config = {"feature": feature, "reducer": reducer}
        folder = self.layout.reductions / reducer["name"] / f"{feature}-{config_id(config)}"
        folder.mkdir(parents=True, exist_ok=True)
        write_vectors(folder / REDUCED_FILE, table.face_ids, table.vectors)
        write_json(
            folder / REDUCER_CONFIG,
            {**config, "feature_config": table.config, "dim": int(table.vectors.shape[1])},
        )
        return folder

    # clusterings
    def save_clustering(
        self,
        reduction: Path,
        clusterer: dict[str, Any],
        face_ids: np.ndarray,
        labels: np.ndarray,
        metrics: dict[str, Any],
    ) -> Path:
        """Store a clustering of the reduction in ``reduction`` with its config and metrics."""
        reducer_config = read_json(reduction / REDUCER_CONFIG)
        folder = reduction / "clustering" / clusterer["name"] / config_id(clusterer)
        folder.mkdir(parents=True, exist_ok=True)
        clusters = pd.DataFrame(
            {"face_id": face_ids, "cluster": np.asarray(labels, dtype=np.int64)}
        )
        atomic_write_text(folder / "clusters.csv", clusters.to_csv(index=False))
        write_json(folder / CLUSTERING_CONFIG, {
            "feature": reducer_config["feature"], "reducer": reducer_config["reducer"],
            "clusterer": clusterer, "feature_config": reducer_config["feature_config"],
        })  # fmt: skip
        write_json(folder / METRICS_FILE, metrics)
        return folder

    # aggregated tables
    def aggregate(self) -> pd.DataFrame:
        """All stored clusterings as one table (best :data:`RANK_METRIC` first), written to
        ``results/results.csv``."""
        rows = []
        for config_path in sorted(
            self.layout.reductions.glob(f"*/*/clustering/*/*/{CLUSTERING_CONFIG}")
        ):
            config = read_json(config_path)
            metrics = read_json(config_path.parent / METRICS_FILE)
            rows.append({
                "feature": config["feature"],
                "reducer": config["reducer"]["name"],
                "clusterer": config["clusterer"]["name"],
                **metrics,
                **_flatten("feature_config", config["feature_config"]),
                **_flatten("reducer", config["reducer"]),
                **_flatten("clusterer", config["clusterer"]),
                "path": str(config_path.parent.relative_to(self.layout.root)),
            })  # fmt: skip
        table = pd.DataFrame(rows)
        if RANK_METRIC in table:
            table = table.sort_values(RANK_METRIC, ascending=False, kind="stable")
        self.layout.results.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.layout.results / RESULTS_FILE, table.to_csv(index=False))
        return table


def _flatten(prefix: str, config: dict[str, Any]) -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"prefix.a.b": 1}`` (lists as JSON), skipping ``name``."""
    flat: dict[str, Any] = {}
    for key, value in config.items():
        if key == "name":
            continue
        if isinstance(value, dict):
            flat.update(_flatten(f"{prefix}.{key}", value))
        else:
            flat[f"{prefix}.{key}"] = json.dumps(value) if isinstance(value, list) else value
    return flat
