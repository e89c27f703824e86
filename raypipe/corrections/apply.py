"""Apply people's corrections to the labels of any clusterer.

After clustering, each must-link unit (a merge, a name's anchors, joined where they share
faces) is gathered into one cluster, taking along the unconstrained faces of clusters it makes
up at least half of. Then every cannot-link pair sharing a cluster is split: the smaller side moves to
the nearest cluster centre that breaks no constraint (within ``max_distance``), else to a new
cluster. Named people finally get their stored cluster ids. Corrections that cannot be
honoured (their faces were not clustered) are listed with the reason, never dropped silently.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import count

import numpy as np
import pandas as pd

from raypipe.cluster.base import relabel_by_size
from raypipe.cluster.constraints import centroids
from raypipe.corrections.store import Components, Corrections
from raypipe.embed.base import l2_normalize

log = logging.getLogger(__name__)

#: Passes that move a face to the nearest allowed cluster before a clash becomes a new cluster.
NEAREST_PASSES = 2


@dataclass
class Corrected:
    """Labels after the corrections, the person of each named label, what could not be honoured."""

    labels: np.ndarray
    persons: dict[int, str]
    unhonoured: list[str] = field(default_factory=list)
    moved: int = 0

    def summary(self, corrections: Corrections) -> dict:
        return {
            "names": len(corrections.names), "merge": len(corrections.merge), "not": len(corrections.not_),
            "ignore": len(corrections.ignore), "faces_moved_apart": self.moved, "unhonoured": self.unhonoured,
        }  # fmt: skip


def apply_corrections(
    corrections: Corrections,
    face_ids: np.ndarray,
    X: np.ndarray,
    labels: np.ndarray,
    *,
    stable_ids: bool = True,
    max_distance: float | None = None,
    groups: np.ndarray | None = None,
    absent: Mapping[str, str] | None = None,
) -> Corrected:
    """``labels`` of the rows ``face_ids`` (vectors ``X``) with ``corrections`` applied.

    ``stable_ids``: renumber so that named people keep their stored cluster ids (others by
    size). ``groups``: image ids; a face moved apart never joins a cluster holding its image.
    ``absent``: why a face id missing from ``face_ids`` was not clustered.
    """
    row_of = {face: row for row, face in enumerate(face_ids)}
    units = link_units(corrections, row_of)
    out = Corrected(np.asarray(labels, dtype=np.int64).copy(), {})
    out.unhonoured = missing_faces(corrections, row_of, absent or {})
    if corrections.is_empty() or not len(out.labels):
        return out
    out.labels = gather_units(out.labels, units)
    out.moved = separate(out, corrections, row_of, units, l2_normalize(X), groups, max_distance)
    named = {name: out.labels[rows][0] for name, rows in anchor_rows(corrections, row_of).items()}
    if stable_ids:
        kept = {label: corrections.names[name].cluster for name, label in named.items()}
        out.labels = renumber(out.labels, kept)
        named = {name: corrections.names[name].cluster for name in named}
    out.persons = {int(label): name for name, label in named.items()}
    for note in out.unhonoured:
        log.warning("correction not honoured: %s", note)
    return out


def link_units(corrections: Corrections, row_of: Mapping[str, int]) -> np.ndarray:
    """Per row, its must-link unit (faces joined by merges and names), -1 for free rows."""
    components = Components(corrections.links())
    roots: dict[str, int] = {}
    units = np.full(len(row_of), -1, dtype=np.int64)
    for face in components.parent:
        if face in row_of:
            units[row_of[face]] = roots.setdefault(components.find(face), len(roots))
    return units


def anchor_rows(corrections: Corrections, row_of: Mapping[str, int]) -> dict[str, list[int]]:
    """Rows of each named person's clustered anchors (people with none are left out)."""
    rows = {
        name: [row_of[f] for f in p.faces if f in row_of] for name, p in corrections.names.items()
    }
    return {name: r for name, r in rows.items() if r}


def missing_faces(
    corrections: Corrections, row_of: Mapping[str, int], absent: Mapping[str, str]
) -> list[str]:
    """One line per correction naming faces that were not clustered, with the reason."""
    entries = list(corrections.links()) + [
        (c.describe(), [c.face, *c.not_with]) for c in corrections.not_
    ]
    notes = []
    for description, faces in entries:
        missing = [f for f in faces if f not in row_of]
        if missing:
            why = absent.get(missing[0], "not in this run's faces")
            notes.append(f"{description}: {len(missing)} of its {len(faces)} faces not clustered "
                         f"(e.g. {missing[0]}: {why})")  # fmt: skip
    return notes


def gather_units(labels: np.ndarray, units: np.ndarray) -> np.ndarray:
    """Each unit in one cluster of its own: the most common free label among its rows, else new.

    Unconstrained rows of a cluster that the unit makes up at least half of come along.
    """
    out, free = labels.copy(), units < 0
    sizes = Counter(labels[labels >= 0].tolist())
    fresh = count(int(labels.max()) + 1)
    claimed: set[int] = set()
    members = pd.Series(units[~free]).groupby(units[~free]).indices
    for unit in sorted(members, key=lambda u: (-len(members[u]), u)):
        rows = np.flatnonzero(~free)[members[unit]]
        common = Counter(labels[rows][labels[rows] >= 0].tolist()).most_common()
        target = next((label for label, _ in common if label not in claimed), None)
        target = next(fresh) if target is None else target
        claimed.add(target)
        out[rows] = target
        for label, n in common:
            if label != target and label not in claimed and 2 * n >= sizes[label]:
                out[free & (labels == label)] = target
    return out


def separate(out: Corrected, corrections: Corrections, row_of: Mapping[str, int], units: np.ndarray,
             X: np.ndarray, groups: np.ndarray | None, max_distance: float | None) -> int:  # fmt: skip
    """Split every cannot-link pair sharing a cluster; returns the number of faces moved.

    A pass checks every pair; after the passes that move to the nearest allowed cluster, one
    moves to new clusters, and a last one notes any pair still together as not honoured.
    """
    moved = 0
    for attempt in range(NEAREST_PASSES + 2):
        labels = out.labels
        centres = centroids(X, labels, int(labels.max()) + 1)
        clashes = 0
        for link in corrections.not_:
            face, others = row_of.get(link.face), [row_of[f] for f in link.not_with if f in row_of]
            clash = [
                o
                for o in others
                if face is not None and labels[face] >= 0 and labels[o] == labels[face]
            ]
            if not clash:
                continue
            clashes += 1
            if attempt > NEAREST_PASSES:
                out.unhonoured.append(
                    f"{link.describe()}: still shares a cluster with {len(clash)} face(s)"
                )
                continue
            side, other_side = unit_rows(units, [face]), unit_rows(units, clash)
            mover, banned = (side, others) if len(side) <= len(other_side) else (other_side, [face])
            cap = max_distance if attempt < NEAREST_PASSES else -1.0
            labels[mover] = nearest_allowed(X[mover], centres, labels, banned, mover, groups, cap)
            moved += len(mover)
        if not clashes:
            break
    return moved


def unit_rows(units: np.ndarray, rows: list[int]) -> np.ndarray:
    """``rows`` with every row of their must-link units."""
    linked = units[rows][units[rows] >= 0]
    return np.union1d(rows, np.flatnonzero(np.isin(units, linked)))


def nearest_allowed(vectors: np.ndarray, centres: np.ndarray, labels: np.ndarray, banned_rows, mover: np.ndarray,
                    groups: np.ndarray | None, max_distance: float | None) -> int:  # fmt: skip
    """Nearest cluster holding none of ``banned_rows`` nor an image of ``mover``, else a new id."""
    banned = set(labels[banned_rows].tolist()) | {int(labels[mover[0]])}
    if groups is not None:
        banned |= set(labels[np.isin(groups, groups[mover])].tolist())
    similarity = centres @ l2_normalize(vectors.mean(axis=0, keepdims=True))[0]
    for label in np.argsort(-similarity):
        if max_distance is not None and 1.0 - similarity[label] > max_distance:
            break
        if label not in banned and (labels == label).any():
            return int(label)
    return int(labels.max()) + 1


def renumber(labels: np.ndarray, kept: Mapping[int, int]) -> np.ndarray:
    """``kept`` labels get their stored ids; the others 0, 1, ... by size, skipping those ids."""
    ranked = relabel_by_size(labels)
    kept_ranked = {
        int(ranked[np.flatnonzero(labels == label)[0]]): cid for label, cid in kept.items()
    }
    free_ids = (i for i in count() if i not in set(kept.values()))
    mapping = {
        r: kept_ranked[r] if r in kept_ranked else next(free_ids)
        for r in sorted(set(ranked[ranked >= 0].tolist()))
    }
    return np.array([mapping.get(r, -1) for r in ranked], dtype=np.int64)
