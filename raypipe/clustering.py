"""Cluster a run's faces: quality filter, clusterer from the config, clusters.csv and galleries."""

from __future__ import annotations

import logging
import shutil
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from raypipe.cluster import CLUSTERERS
from raypipe.config import Config
from raypipe.ids import safe_stem
from raypipe.layout import CLUSTERS_CSV_COLUMNS, RunLayout, atomic_write_text
from raypipe.quality import Quality, verdict
from raypipe.registry import split_spec

log = logging.getLogger(__name__)


@dataclass
class ClusterResult:
    faces: int
    clustered: int
    set_aside: int
    clusters: int
    unassigned: int
    seconds: float
    clusterer: dict
    set_aside_reasons: dict[str, int]


def load_faces(layout: RunLayout) -> pd.DataFrame:
    if not layout.faces.exists():
        raise FileNotFoundError(f"{layout.faces} not found: run `raypipe extract` first")
    return pd.read_parquet(layout.faces)


def clusterer_spec(config: Config, faces: pd.DataFrame) -> dict:
    """The configured clusterer, told the embedding model so that ``auto`` can calibrate."""
    name, params = split_spec(config.cluster.clusterer)
    if name == "auto" and "model" not in params and len(faces):
        params["model"] = str(faces["embedder"].iloc[0])
    if config.cluster.cannot_link and "cannot_link" in CLUSTERERS.resolve(name)().get_params():
        params.setdefault("cannot_link", True)
    return {"name": name, **params}


def quality_reasons(faces: pd.DataFrame, config: Config) -> list[str]:
    """Per face: empty when fit to cluster, else why it is set aside."""
    return [
        verdict(Quality(r.face_px, r.sharpness, r.yaw), r.det_score, config.quality)
        for r in faces[["face_px", "sharpness", "yaw", "det_score"]].itertuples(index=False)
    ]


def cluster_run(run: str, config: Config) -> ClusterResult:
    """Cluster the faces of ``run`` and write ``clusters.csv`` and ``clustered_faces/``."""
    started = time.perf_counter()
    layout = RunLayout.at(run)
    faces = load_faces(layout)
    reasons = quality_reasons(faces, config)
    fit = np.array([not r for r in reasons], dtype=bool)
    spec = clusterer_spec(config, faces)
    labels = np.full(len(faces), -1, dtype=np.int64)
    if fit.sum() > 0:
        X = np.stack(faces.loc[fit, "embedding"].to_numpy()).astype(np.float32)
        model = CLUSTERERS.build(spec).fit(X, groups=faces.loc[fit, "image_id"].to_numpy())
        labels[fit] = relabel_by_size(np.asarray(model.labels_))
    write_clusters(layout, faces, labels)
    set_aside = pd.Series([r.split(" (")[0] for r in reasons if r]).value_counts().to_dict()
    return ClusterResult(
        faces=len(faces),
        clustered=int(fit.sum()),
        set_aside=int((~fit).sum()),
        clusters=len(set(labels[labels >= 0].tolist())),
        unassigned=int((labels < 0).sum()),
        seconds=time.perf_counter() - started,
        clusterer=spec,
        set_aside_reasons={str(k): int(v) for k, v in set_aside.items()},
    )


def relabel_by_size(labels: np.ndarray) -> np.ndarray:
    """Cluster ids 0, 1, ... from the largest cluster down (ties by first row); -1 stays -1.

    >>> relabel_by_size(np.array([5, 3, 3, -1, 5, 3]))
    array([ 1,  0,  0, -1,  1,  0])
    """
    out = np.full(len(labels), -1, dtype=np.int64)
    valid = labels >= 0
    if not valid.any():
        return out
    ids, first, counts = np.unique(labels[valid], return_index=True, return_counts=True)
    order = sorted(range(len(ids)), key=lambda i: (-counts[i], first[i]))
    mapping = {ids[i]: rank for rank, i in enumerate(order)}
    out[valid] = [mapping[v] for v in labels[valid]]
    return out


def write_clusters(layout: RunLayout, faces: pd.DataFrame, labels: np.ndarray) -> None:
    """``clusters.csv`` and ``clustered_faces/<cluster>/<cluster>_<stem>_<index>.jpg`` (chips)."""
    table = faces[CLUSTERS_CSV_COLUMNS[:-1]].copy()
    table["cluster"] = labels
    atomic_write_text(layout.clusters, table.to_csv(index=False, float_format="%.1f"))
    if layout.clustered_faces.exists():
        shutil.rmtree(layout.clustered_faces)
    used: set[str] = set()
    for row, cluster in zip(faces.itertuples(index=False), labels):
        chip = layout.chip(row.face_id)
        if not chip.exists():
            continue
        stem = safe_stem(str(row.image_path))
        name = f"{cluster}_{stem}_{row.face_index}.jpg"
        if name in used:  # equal file names in different folders
            name = f"{cluster}_{stem}-{row.image_id[:8]}_{row.face_index}.jpg"
        used.add(name)
        target = layout.clustered_faces / str(cluster) / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(chip, target)
