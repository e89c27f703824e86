"""The clustering step's side of corrections: which faces to cluster, corrected labels, suggestions."""

from __future__ import annotations

import numpy as np
import pandas as pd

from raypipe.cluster.calibration import CALIBRATION
from raypipe.cluster.stream import embedding_matrix
from raypipe.corrections.apply import Corrected, apply_corrections
from raypipe.corrections.store import Corrections
from raypipe.corrections.suggest import suggest_people
from raypipe.layout import RunLayout, atomic_write_text, read_clusters


def faces_to_cluster(
    faces: pd.DataFrame, reasons: list[str], corrections: Corrections
) -> np.ndarray:
    """Faces fit by quality or kept by a merge / name (people overrule the filter), not ignored."""
    linked = {f for _, group in corrections.links() for f in group}
    fit = np.array([not r for r in reasons], dtype=bool) | faces["face_id"].isin(linked).to_numpy()
    return fit & ~faces["face_id"].isin(corrections.ignore).to_numpy()


def correct_labels(corrections: Corrections, faces: pd.DataFrame, rows: np.ndarray, X: np.ndarray,
                   labels: np.ndarray, *, model: str | None, reasons: list[str], groups: np.ndarray | None,
                   into: RunLayout | None = None) -> Corrected:  # fmt: skip
    """``labels`` of the clustered ``rows`` with the corrections applied and people named.

    ``model``: the embedding model of ``X`` (None for a feature or reduced vectors): a face moved
    apart joins a cluster within its same-person distance, else a new one. With ``into`` (an
    earlier run), old cluster ids stay and so do that run's people.
    """
    face_ids = faces["face_id"].to_numpy()
    absent = {f: r or "no vector for the clustered feature" for f, r in zip(face_ids, reasons)}
    absent |= {f: "ignored" for f in corrections.ignore}
    fixed = apply_corrections(
        corrections, face_ids[rows], X, labels, stable_ids=into is None, groups=groups, absent=absent,
        max_distance=pair_threshold(model),
    )  # fmt: skip
    if into is not None:
        old = people_of(into)
        for label, person in fixed.persons.items():
            if old.get(label, person) != person:
                fixed.unhonoured.append(
                    f"name {person!r}: its faces joined {old[label]!r} of {into.root}"
                )
        fixed.persons = {**fixed.persons, **old}
    return fixed


def pair_threshold(model: str | None) -> float | None:
    """Farthest cluster centre a face moved apart may join (None: no calibrated model)."""
    return CALIBRATION[model].pair if model in CALIBRATION else None


def people_of(layout: RunLayout) -> dict[int, str]:
    """Cluster id -> person of a clustered run's ``clusters.csv``."""
    clusters = read_clusters(layout)
    if "person" not in clusters:
        return {}
    named = clusters.dropna(subset=["person"]).drop_duplicates("cluster")
    return dict(zip(named["cluster"].astype(int), named["person"].astype(str)))


def write_suggestions(layout: RunLayout, faces: pd.DataFrame, labels: np.ndarray, persons: dict[int, str],
                      corrections: Corrections) -> None:  # fmt: skip
    """``suggestions.csv`` when someone is named, else no (stale) file."""
    if not persons:
        if layout.suggestions.exists():
            layout.suggestions.unlink()
        return
    embeddings = embedding_matrix(layout, faces)
    table = suggest_people(
        faces["face_id"].to_numpy(), embeddings, labels, persons, set(corrections.ignore)
    )
    atomic_write_text(layout.suggestions, table.to_csv(index=False))
