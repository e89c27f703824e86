"""Add the faces of a new extraction to an existing clustering, keeping old cluster ids stable.

A new face joins the old cluster that wins a similarity-weighted vote among its ``k`` nearest
old (clustered) faces lying within ``threshold``. Faces with no such neighbour are clustered
among themselves and get fresh ids above the old ones. With ``new_groups``, two new faces of one
image never join the same old cluster: the closer one stays, the other is clustered as new.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from raypipe.cluster import CLUSTERERS
from raypipe.cluster.calibration import same_person_threshold
from raypipe.cluster.knn import nearest_neighbours
from raypipe.embed.base import l2_normalize

log = logging.getLogger(__name__)


def vote(neighbour_labels: np.ndarray, neighbour_sims: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the label with the largest summed similarity (-1 if none) and that sum."""
    rows = np.repeat(np.arange(len(neighbour_labels)), neighbour_labels.shape[1])
    votes = pd.DataFrame(
        {"row": rows, "label": neighbour_labels.ravel(), "sim": neighbour_sims.ravel()}
    )
    votes = votes[votes.label >= 0].groupby(["row", "label"], as_index=False).sim.sum()
    best = votes.sort_values(["row", "sim"], ascending=[True, False]).drop_duplicates("row")
    winners = np.full(len(neighbour_labels), -1, dtype=np.int64)
    strength = np.zeros(len(neighbour_labels))
    winners[best.row.to_numpy()] = best.label.to_numpy()
    strength[best.row.to_numpy()] = best.sim.to_numpy()
    return winners, strength


def _one_per_group(labels: np.ndarray, strength: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """``labels`` where, of one group's rows voted into one cluster, only the strongest stays."""
    rows = pd.DataFrame({"label": labels, "group": groups, "strength": strength})
    rows = rows[rows.label >= 0].sort_values("strength", ascending=False)
    losers = rows[rows.duplicated(["label", "group"], keep="first")].index.to_numpy()
    labels = labels.copy()
    labels[losers] = -1
    return labels


def assign_incremental(
    old_X: np.ndarray,
    old_labels: np.ndarray,
    new_X: np.ndarray,
    threshold: float | None = None,
    clusterer: str | Mapping[str, Any] = "auto",
    new_groups: np.ndarray | None = None,
    *,
    model: str | None = None,
    k: int = 10,
) -> np.ndarray:
    """Cluster ids for the rows of ``new_X``: old ids where a vote finds one, fresh ids otherwise.

    ``threshold``: longest cosine distance to an old face that still votes (None: the calibrated
    single-pair distance of ``model``). ``clusterer``: registry spec used for the leftover faces.
    Leftovers the clusterer leaves as noise stay -1.
    """
    old_X, new_X = l2_normalize(old_X), l2_normalize(new_X)
    old_labels = np.asarray(old_labels, dtype=np.int64)
    if threshold is None:
        threshold = same_person_threshold(new_X, model, "pair")
    clustered = np.flatnonzero(old_labels >= 0)
    labels = np.full(len(new_X), -1, dtype=np.int64)
    if clustered.size:
        nearest = nearest_neighbours(old_X[clustered], min(k, clustered.size), queries=new_X)
        within = (nearest.indices >= 0) & (nearest.distances <= threshold)
        neighbour_labels = np.where(within, old_labels[clustered][nearest.indices], -1)
        labels, strength = vote(neighbour_labels, 1.0 - nearest.distances)
        if new_groups is not None:
            labels = _one_per_group(labels, strength, np.asarray(new_groups))
    rest = np.flatnonzero(labels < 0)
    log.info(
        "incremental: %d of %d new faces joined old clusters, %d clustered anew",
        len(new_X) - rest.size,
        len(new_X),
        rest.size,
    )
    if rest.size:
        groups = None if new_groups is None else np.asarray(new_groups)[rest]
        fresh = CLUSTERERS.build(clusterer).fit(new_X[rest], groups=groups).labels_
        first_free = int(old_labels.max()) + 1 if old_labels.size else 0
        labels[rest] = np.where(fresh >= 0, fresh + first_free, -1)
    return labels
