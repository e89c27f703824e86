"""Combine stored features: the faces every feature has, blocks normalised, then concatenated."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from raypipe.embed.base import l2_normalize
from raypipe.features.store import FeatureStore, FeatureTable


def normalise_block(vectors: np.ndarray, method: str) -> np.ndarray:
    """``l2``: unit rows; ``standard``: zero-mean unit-variance columns, then unit rows."""
    if method == "standard":
        vectors = (vectors - vectors.mean(axis=0)) / (vectors.std(axis=0) + 1e-6)
    elif method != "l2":
        raise ValueError(f"unknown block normalisation {method!r}; choose l2 or standard")
    return l2_normalize(vectors)


def combine_tables(
    tables: Sequence[FeatureTable],
    names: Sequence[str],
    weights: Sequence[float] | None = None,
    block_norm: str = "l2",
) -> FeatureTable:
    """One table of the faces present in every table (in the first table's order).

    Each block is normalised so that every feature weighs the same (times its ``weight``)
    whatever its length; the result's config lists the parts' configs.
    """
    weights = list(weights) if weights is not None else [1.0] * len(tables)
    if not (len(tables) == len(names) == len(weights)) or len(tables) < 2:
        raise ValueError("combine needs two or more features, with one name and weight each")
    common = set(tables[0].face_ids)
    for table in tables[1:]:
        common &= set(table.face_ids)
    face_ids = np.array([f for f in tables[0].face_ids if f in common], dtype=object)
    blocks = []
    for table, weight in zip(tables, weights):
        row_of = {face_id: i for i, face_id in enumerate(table.face_ids)}
        rows = np.array([row_of[f] for f in face_ids], dtype=np.int64)
        blocks.append(
            weight * normalise_block(table.vectors[rows], block_norm) / np.sqrt(len(tables))
        )
    config = {
        "name": "combine", "block_norm": block_norm, "weights": weights,
        "parts": {name: table.config for name, table in zip(names, tables)},
    }  # fmt: skip
    return FeatureTable(face_ids, np.hstack(blocks), config)


def combine_features(
    run: str,
    names: Sequence[str],
    name: str | None = None,
    weights: Sequence[float] | None = None,
    block_norm: str = "l2",
) -> FeatureTable:
    """Combine the stored features ``names`` of ``run`` and store the result as ``name``."""
    store = FeatureStore.at(run)
    table = combine_tables([store.load(n) for n in names], names, weights, block_norm)
    store.save(name or "+".join(names), table)
    return table
