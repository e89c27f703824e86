"""Run every stored feature x reducer x clusterer, store each result, write the results table."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from raypipe.cluster import CLUSTERERS
from raypipe.evaluation.labels import face_labels
from raypipe.evaluation.metrics import score_clustering
from raypipe.reduce import REDUCERS
from raypipe.registry import split_spec
from raypipe.research.store import RANK_METRIC, FeatureTable, ResultStore

log = logging.getLogger(__name__)

#: A clusterer setting with this value is replaced by the number of true labels (k-means "true k").
TRUE_K = "true-k"

Spec = str | Mapping[str, Any]


def _as_dict(spec: Spec) -> dict[str, Any]:
    name, params = split_spec(spec)
    return {"name": name, **params}


def resolve_true_k(clusterer: dict[str, Any], n_labels: int | None) -> dict[str, Any]:
    """``clusterer`` with every ``"true-k"`` value replaced by ``n_labels``."""
    if TRUE_K in clusterer.values() and n_labels is None:
        raise ValueError(f"clusterer {clusterer} asks for the true k, but the faces have no labels")
    return {key: n_labels if value == TRUE_K else value for key, value in clusterer.items()}


def run_grid(
    run: str,
    features: Sequence[str],
    reducers: Sequence[Spec] = ("none",),
    clusterers: Sequence[Spec] = ({"name": "kmeans", "n_clusters": TRUE_K},),
    use_labels: bool = True,
) -> pd.DataFrame:
    """Cluster every stored feature after every reducer with every clusterer; return the table.

    Reducers are fitted on the feature and applied to all its faces. With ``use_labels``,
    each clustering is scored against the faces' labels (``label`` column or parent folder).
    """
    store = ResultStore.at(run)
    faces = pd.read_parquet(store.layout.faces)
    labels_by_face = dict(zip(faces["face_id"], face_labels(faces))) if use_labels else {}
    for feature in features:
        table = store.load_feature(feature)
        truth = np.array([labels_by_face.get(f) for f in table.face_ids], dtype=object)
        known = (
            np.array([label is not None for label in truth])
            if use_labels
            else np.zeros(len(truth), bool)
        )
        n_labels = len(set(truth[known])) if known.any() else None
        for reducer in map(_as_dict, reducers):
            started = time.monotonic()
            reduced = REDUCERS.build(reducer).fit_transform(table.vectors)
            reduce_seconds = time.monotonic() - started
            folder = store.save_reduction(
                feature, reducer, FeatureTable(table.face_ids, reduced, table.config)
            )
            for clusterer in map(_as_dict, clusterers):
                started = time.monotonic()
                model = CLUSTERERS.build(resolve_true_k(clusterer, n_labels)).fit(reduced)
                labels = np.asarray(model.labels_)
                metrics = score_clustering(truth[known], labels[known]) if known.any() else {}
                metrics.update(n_faces=len(labels), n_clusters_found=len(set(labels) - {-1}),
                               reduce_seconds=round(reduce_seconds, 3),
                               cluster_seconds=round(time.monotonic() - started, 3))  # fmt: skip
                store.save_clustering(folder, clusterer, table.face_ids, labels, metrics)
                log.info("%s | %s | %s: %s %s", feature, reducer["name"], clusterer["name"], RANK_METRIC,
                         round(metrics.get(RANK_METRIC, float("nan")), 3))  # fmt: skip
    return store.aggregate()
