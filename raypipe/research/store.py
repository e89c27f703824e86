"""Where sweep results live in a run folder, and how they are written and read.

::

    RUN/reductions/<method>/<feature>-<run-id>/reducer_config.json
    RUN/reductions/<method>/<feature>-<run-id>/clustering/<clusterer>/<run-id>/
        clusters.csv (face_id, cluster), clustering_config.json, metrics.json
    RUN/results/results.csv                     one row per feature x reduction x clustering

Run ids are digests of the configs, so rerunning a configuration overwrites its folder. The
features themselves live in the feature store (:mod:`raypipe.features.store`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from raypipe.features.store import read_json, write_json
from raypipe.layout import RunLayout, atomic_write_text
from raypipe.sweep.settings import LABELLED_DEFAULT_METRIC, UNLABELLED_DEFAULT_METRIC

REDUCER_CONFIG = "reducer_config.json"
CLUSTERING_CONFIG = "clustering_config.json"
METRICS_FILE = "metrics.json"
RESULTS_FILE = "results.csv"
#: Results are ranked by BCubed F, the score docs/research.md recommends for comparing clusterings
#: (it weighs every face equally and penalises both merges and splits); without labels
#: (``features sweep --no-labels``), the sweep's unsupervised score (silhouette) ranks them.
RANK_METRIC = LABELLED_DEFAULT_METRIC


def config_id(config: dict[str, Any]) -> str:
    """Short stable digest of a JSON-ready config."""
    canonical = json.dumps(config, sort_keys=True, default=str)
    return hashlib.sha1(canonical.encode("utf-8")).hexdigest()[:10]


@dataclass(frozen=True)
class ResultStore:
    """Sweep results of one run folder."""

    layout: RunLayout

    def save_clustering(
        self,
        feature: str,
        feature_config: dict[str, Any],
        reducer: dict[str, Any],
        clusterer: dict[str, Any],
        face_ids: np.ndarray,
        labels: np.ndarray,
        metrics: dict[str, Any],
    ) -> Path:
        """Store a clustering of ``feature`` after ``reducer`` with its configs and metrics."""
        config = {"feature": feature, "reducer": reducer}
        reduction = self.layout.reductions / reducer["name"] / f"{feature}-{config_id(config)}"
        reduction.mkdir(parents=True, exist_ok=True)
        write_json(reduction / REDUCER_CONFIG, {**config, "feature_config": feature_config})
        folder = reduction / "clustering" / clusterer["name"] / config_id(clusterer)
        folder.mkdir(parents=True, exist_ok=True)
        clusters = pd.DataFrame({"face_id": face_ids, "cluster": np.asarray(labels, dtype=np.int64)})
        atomic_write_text(folder / "clusters.csv", clusters.to_csv(index=False))
        write_json(folder / CLUSTERING_CONFIG, {**config, "clusterer": clusterer, "feature_config": feature_config})
        write_json(folder / METRICS_FILE, metrics)
        return folder

    # aggregated tables
    def aggregate(self) -> pd.DataFrame:
        """All stored clusterings as one table (best :data:`RANK_METRIC` first, else best
        silhouette), written to ``results/results.csv``."""
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
        ranked_by = next((m for m in (RANK_METRIC, UNLABELLED_DEFAULT_METRIC) if m in table), None)
        if ranked_by:
            table = table.sort_values(ranked_by, ascending=False, kind="stable")
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
