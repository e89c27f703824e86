"""Cannot-link: no two faces of one image (one group) in the same cluster.

A cluster holding several faces of one group keeps the face closest to its centre; each other
face moves to the nearest cluster centre that has no face of its group (within a distance, if
one is given), or else becomes a singleton cluster of its own.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from scipy import sparse

from raypipe.cluster.knn import nearest_neighbours
from raypipe.embed.base import l2_normalize

log = logging.getLogger(__name__)

#: Nearest other clusters tried for a face that has to leave its cluster.
CANDIDATES = 8
#: Rows summed at a time into the cluster centres.
CENTROID_BLOCK = 65_536


def centroids(X: np.ndarray, labels: np.ndarray, n_clusters: int) -> np.ndarray:
    """L2-normalised mean of each cluster ``0 .. n_clusters-1`` (noise rows ignored).

    Summed in float64 by a sparse cluster-by-row product, :data:`CENTROID_BLOCK` rows at a
    time (``np.add.at`` took 15 s for 1M faces)."""
    sums = np.zeros((n_clusters, X.shape[1]), dtype=np.float64)
    for start in range(0, len(X), CENTROID_BLOCK):
        block = labels[start : start + CENTROID_BLOCK]
        rows = np.flatnonzero(block >= 0)
        member = sparse.csr_matrix(
            (np.ones(len(rows)), (block[rows], rows)), shape=(n_clusters, len(block))
        )
        sums += member @ np.asarray(X[start : start + CENTROID_BLOCK], dtype=np.float64)
    return l2_normalize(sums)


def _evicted_rows(
    X: np.ndarray, labels: np.ndarray, groups: np.ndarray, centres: np.ndarray
) -> np.ndarray:
    """Rows sharing a cluster with a same-group row that is closer to the cluster centre."""
    rows = pd.DataFrame({"label": labels, "group": groups, "row": np.arange(len(labels))})
    rows = rows[rows.label >= 0]
    rows = rows[rows.duplicated(["label", "group"], keep=False)]
    if rows.empty:
        return np.empty(0, dtype=np.int64)
    rows = rows.assign(sim=np.einsum("ij,ij->i", X[rows.row], centres[rows.label]))
    rows = rows.sort_values("sim", ascending=False)
    return rows[rows.duplicated(["label", "group"], keep="first")].row.to_numpy()


def _first_allowed(candidates, distances, group, taken, max_distance) -> int | None:
    """Nearest candidate cluster with no face of ``group``, if within ``max_distance``."""
    for candidate, distance in zip(candidates, distances):
        if candidate < 0 or (max_distance is not None and distance > max_distance):
            return None
        if (candidate, group) not in taken:
            return int(candidate)
    return None


def enforce_cannot_link(
    X: np.ndarray, labels: np.ndarray, groups: np.ndarray, max_distance: float | None = None
) -> np.ndarray:
    """``labels`` with every cluster holding at most one row per group.

    ``max_distance`` caps the cosine distance from a moved row to the centre it joins.
    """
    labels = np.asarray(labels, dtype=np.int64).copy()
    n_clusters = int(labels.max()) + 1 if labels.size else 0
    centres = centroids(X, labels, n_clusters)
    evicted = _evicted_rows(X, labels, groups, centres)
    if evicted.size == 0:
        return labels
    nearest = nearest_neighbours(centres, CANDIDATES + 1, queries=X[evicted], method="exact")
    evicted_groups = set(groups[evicted])
    taken = {(label, group) for label, group in zip(labels, groups) if group in evicted_groups}
    next_label, moved = n_clusters, 0
    for row, candidates, distances in zip(evicted, nearest.indices, nearest.distances):
        target = _first_allowed(candidates, distances, groups[row], taken, max_distance)
        if target is None:
            target, next_label = next_label, next_label + 1
        else:
            moved += 1
        labels[row] = target
        taken.add((target, groups[row]))
    log.info(
        "cannot-link: %d faces left a cluster shared with their photo or panel (%d moved, %d alone)",
        len(evicted),
        moved,
        len(evicted) - moved,
    )
    return labels
