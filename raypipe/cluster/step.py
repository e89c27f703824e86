"""Cluster a run's faces: quality filter, clusterer from the config, clusters.csv and clusters.parquet."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from raypipe import storage
from raypipe.cluster import CLUSTERERS
from raypipe.cluster.base import relabel_by_size
from raypipe.cluster.knn import reusing_neighbours
from raypipe.cluster.neighbour_store import RunNeighbourStore
from raypipe.cluster.stream import STREAM_LIMIT, face_count, stream_embeddings
from raypipe.config import Config
from raypipe.corrections.clustering import correct_labels, faces_to_cluster, write_suggestions
from raypipe.corrections.store import load as load_corrections
from raypipe.errors import UsageError
from raypipe.features.store import FeatureStore
from raypipe.ids import OUTSIDE_PANELS
from raypipe.layout import CLUSTERS_CSV_COLUMNS, RunLayout, atomic_write_text, read_clusters
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
    feature: str | None = None
    reducer: dict | None = None
    corrections: dict | None = None


@dataclass
class ClusterInputs:
    """The faces to cluster: their rows in faces.parquet, vectors and image ids (cannot-link groups)."""

    rows: np.ndarray
    X: np.ndarray
    groups: np.ndarray


#: The columns of the faces table that clustering reads (ids, boxes, quality, embedding).
CLUSTER_COLUMNS = [
    "face_id", "image_id", "image_path", "face_index", "panel_index", "x1", "y1", "x2", "y2", "det_score",
    "face_px", "sharpness", "yaw", "embedding", "embedder",
]  # fmt: skip


def load_faces(layout: RunLayout, embeddings: bool | None = None) -> pd.DataFrame:
    """The faces table; ``embeddings`` None: the embedding column only up to ``STREAM_LIMIT``
    faces (above it, :func:`cluster_inputs` streams them into a memmap)."""
    if not layout.faces.exists():
        raise FileNotFoundError(f"{layout.faces} not found: run `raypipe extract` first")
    if embeddings is None:
        embeddings = face_count(layout) <= STREAM_LIMIT
    columns = CLUSTER_COLUMNS if embeddings else [c for c in CLUSTER_COLUMNS if c != "embedding"]
    return layout.read_table("faces", columns=columns).to_pandas()


def cannot_link_groups(faces: pd.DataFrame) -> np.ndarray:
    """The cannot-link group of each face: its photo, or on a comic page its panel (one
    character appears in many panels of a page, but a person once in a photo). A face found
    outside every panel of a page is a group of its own: two such faces may be one character
    drawn in two unboxed pictures. Tables without panels (research runs of labelled crops)
    group by image."""
    if "panel_index" not in faces:
        return faces["image_id"].to_numpy()
    panels = faces["panel_index"].fillna(-1).astype(int)
    groups = (faces["image_id"].astype(str) + "#" + panels.astype(str)).to_numpy()
    alone = np.flatnonzero(panels.to_numpy() == OUTSIDE_PANELS)
    groups[alone] = [f"{group}#{row}" for group, row in zip(groups[alone], alone)]
    return groups


def cluster_inputs(layout: RunLayout, faces: pd.DataFrame, fit: np.ndarray, feature: str | None) -> ClusterInputs:
    """The ``fit`` faces that have ``feature`` (``RUN/features/<name>/``; None: the run's embedding)."""
    if feature is None and "embedding" not in faces:
        streamed = stream_embeddings(layout)
        rows = np.flatnonzero(fit & streamed.present)
        X = streamed.X if len(rows) == len(faces) else streamed.X[rows]
        return ClusterInputs(rows, X, cannot_link_groups(faces)[rows])
    if feature is None:
        vectors = faces["embedding"]
    else:
        stored = FeatureStore(layout).load(feature)
        vectors = faces["face_id"].map(pd.Series(list(stored.vectors), index=stored.face_ids))
    rows = np.flatnonzero(fit & vectors.notna().to_numpy())
    X = np.stack(vectors.iloc[rows].to_numpy()).astype(np.float32) if len(rows) else np.empty((0, 0), np.float32)
    return ClusterInputs(rows, X, cannot_link_groups(faces)[rows])


def clusterer_spec(spec: str | dict, model: str | None, cannot_link: bool) -> dict:
    """``spec`` as a dict, told the embedding ``model`` (calibrated thresholds) and cannot-link.

    ``model`` is None when the clustered vectors are not the run's embedding (a feature, a reducer).
    """
    name, params = split_spec(spec)
    accepted = CLUSTERERS.resolve(name)().get_params()
    if model and "model" in accepted:
        params.setdefault("model", model)
    if cannot_link and "cannot_link" in accepted:
        params.setdefault("cannot_link", True)
    return {"name": name, **params}


def assign_clusters(inputs: ClusterInputs, clusterer: dict, reducer: dict | None = None) -> np.ndarray:
    """Cluster ids of ``inputs`` (0 = largest cluster, -1 = unassigned): reducer, then clusterer."""
    X = inputs.X
    if reducer:
        from raypipe.reduce import REDUCERS

        X = REDUCERS.build(reducer).fit_transform(X)
    model = CLUSTERERS.build(clusterer).fit(X, groups=inputs.groups)
    return relabel_by_size(np.asarray(model.labels_))


def quality_reasons(faces: pd.DataFrame, config: Config) -> list[str]:
    """Per face: empty when fit to cluster, else why it is set aside."""
    return [
        verdict(Quality(r.face_px, r.sharpness, r.yaw), r.det_score, config.quality)
        for r in faces[["face_px", "sharpness", "yaw", "det_score"]].itertuples(index=False)
    ]


def embedding_model(faces: pd.DataFrame) -> str | None:
    """The embedder named in faces.parquet (None for an empty run)."""
    return str(faces["embedder"].iloc[0]) if len(faces) else None


def cluster_run(run: str, config: Config, into: str | None = None) -> ClusterResult:
    """Cluster the faces of ``run`` and write ``clusters.csv`` and ``clusters.parquet``.

    With ``into`` (an earlier clustered run), faces join that run's clusters where a k-NN vote
    finds one, keeping its cluster ids; the rest are clustered into new ids above the old ones.
    """
    started = time.perf_counter()
    layout = RunLayout.at(run)
    faces = load_faces(layout)
    reasons = quality_reasons(faces, config)
    settings = config.cluster
    corrections = load_corrections(layout, set(faces["face_id"]))
    inputs = cluster_inputs(layout, faces, faces_to_cluster(faces, reasons, corrections), settings.feature)
    plain_embedding = settings.feature is None and not settings.reducer
    spec = clusterer_spec(settings.clusterer, embedding_model(faces) if plain_embedding else None, settings.cannot_link)
    labels = np.full(len(faces), -1, dtype=np.int64)
    if into is not None and not plain_embedding:
        raise UsageError("--into joins runs on their embeddings: unset cluster.feature and cluster.reducer")
    if len(inputs.rows) and into is not None:
        labels[inputs.rows] = join_existing(RunLayout.at(into), faces, inputs, spec)
    elif len(inputs.rows):
        with reusing_neighbours(RunNeighbourStore(layout)):  # a re-cluster reads the k-NN table
            labels[inputs.rows] = assign_clusters(inputs, spec, settings.reducer)
    fixed = correct_labels(
        corrections, faces, inputs.rows, inputs.X, labels[inputs.rows], reasons=reasons,
        model=embedding_model(faces) if plain_embedding else None,
        groups=inputs.groups if settings.cannot_link else None, into=RunLayout.at(into) if into else None,
    )  # fmt: skip
    labels[inputs.rows] = fixed.labels
    write_clusters(layout, faces, labels, fixed.persons)
    write_suggestions(layout, faces, labels, fixed.persons, corrections)
    set_aside = pd.Series([r.split(" (")[0] for r in reasons if r]).value_counts().to_dict()
    return ClusterResult(
        faces=len(faces),
        clustered=len(inputs.rows),
        set_aside=sum(1 for r in reasons if r),
        clusters=len(set(labels[labels >= 0].tolist())),
        unassigned=int((labels < 0).sum()),
        seconds=time.perf_counter() - started,
        clusterer=spec,
        set_aside_reasons={str(k): int(v) for k, v in set_aside.items()},
        feature=settings.feature,
        reducer=settings.reducer,
        corrections=None if corrections.is_empty() else fixed.summary(corrections),
    )


def join_existing(old: RunLayout, faces: pd.DataFrame, inputs: ClusterInputs, spec: dict) -> np.ndarray:
    """Cluster ids for ``inputs`` that keep the clusters of the run ``old`` stable."""
    from raypipe.cluster.incremental import assign_incremental

    if not old.clusters.exists():
        raise FileNotFoundError(f"{old.clusters} not found: cluster {old.root} before adding to it")
    old_faces = load_faces(old, embeddings=True).merge(read_clusters(old)[["face_id", "cluster"]], on="face_id")
    models = set(old_faces["embedder"]) | set(faces["embedder"])
    if len(models) > 1:
        raise UsageError(f"cannot join runs embedded with different models: {sorted(models)}")
    old_X = np.stack(old_faces["embedding"].to_numpy()).astype(np.float32)
    return assign_incremental(
        old_X, old_faces["cluster"].to_numpy(), inputs.X,
        threshold=spec.get("threshold"), clusterer=spec, new_groups=inputs.groups, model=spec.get("model"),
    )  # fmt: skip


def write_clusters(layout: RunLayout, faces: pd.DataFrame, labels: np.ndarray, persons: dict[int, str]) -> None:
    """``clusters.csv`` and ``clusters.parquet`` (``person``: the name of a named cluster).

    Chips stay in their shards: a folder per cluster is ``raypipe export RUN --folders``. An
    export of an earlier clustering is deleted, as its folders no longer match the clusters.
    """
    table = faces[CLUSTERS_CSV_COLUMNS[:-2]].copy()
    table["cluster"] = labels
    table["person"] = [persons.get(int(label), "") for label in labels]
    atomic_write_text(layout.clusters, table.to_csv(index=False, float_format="%.1f"))
    storage.write_table(layout.clusters_table, pa.Table.from_pandas(table, preserve_index=False))
    if layout.clustered_faces.exists():
        log.info("removing %s of the previous clustering (`raypipe export %s --folders` writes it again)",
                 layout.clustered_faces, layout.root)  # fmt: skip
        storage.remove_tree(layout.clustered_faces)
