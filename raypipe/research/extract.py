"""Compute a feature for every face of a run and store it (``RUN/features/<name>/``)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from raypipe.chips import ChipStore
from raypipe.features import FEATURES
from raypipe.features.base import FeatureExtractor
from raypipe.features.store import FeatureStore, FeatureTable
from raypipe.layout import RunLayout
from raypipe.pipeline.features import describe_on_ray
from raypipe.registry import split_spec

log = logging.getLogger(__name__)


def extractor_inputs(layout: RunLayout, faces: pd.DataFrame, extractor: FeatureExtractor) -> list:
    """What ``extractor`` reads per face: its chip, or a faces.parquet column (``embedding``)."""
    if extractor.input_column == "chip":
        return ChipStore(layout).images(faces["face_id"].tolist())
    if extractor.input_column not in faces:
        raise ValueError(f"faces.parquet has no {extractor.input_column!r} column")
    return list(faces[extractor.input_column])


def extract_feature(
    run: str,
    spec: str | Mapping[str, Any],
    name: str | None = None,
    labels: np.ndarray | None = None,
    initial_state: dict[str, np.ndarray] | None = None,
    batch_size: int = 256,
    use_ray: bool = False,
) -> FeatureTable:
    """Build the extractor ``spec``, fit it if it learns, describe every face and store the result.

    ``name`` is the folder under ``RUN/features/`` (default: the extractor's name); ``labels``
    (one per face, None/empty when unknown) are passed to ``fit`` for supervised extractors;
    ``initial_state`` (an earlier extractor's learned arrays) is loaded before fitting.
    ``use_ray``: describe the chips with a Ray Data stage on the cluster (:class:`raypipe.pipeline.features.FeatureStage`);
    a learning extractor is fitted on the driver first and shipped fitted.
    """
    store = FeatureStore.at(run)
    extractor_name, _ = split_spec(spec)
    extractor = FEATURES.build(spec)
    faces = pd.read_parquet(store.layout.faces)
    if initial_state:
        extractor.set_state(initial_state)
    on_ray = use_ray and extractor.input_column == "chip"
    inputs = None if on_ray and not extractor.learns else extractor_inputs(store.layout, faces, extractor)
    if extractor.learns:
        extractor.fit(inputs, labels)
    if on_ray:
        vectors = describe_on_ray(store.layout, faces["face_id"].tolist(), extractor, batch_size)
    else:
        parts = []
        for start in range(0, len(inputs), batch_size):
            parts.append(extractor.transform(inputs[start : start + batch_size]))
            log.info("%s: %d/%d faces", extractor_name, min(start + batch_size, len(inputs)), len(inputs))
        vectors = np.concatenate(parts) if parts else np.zeros((0, 0), np.float32)
    config = {"name": extractor_name, **extractor.get_params()}
    table = FeatureTable(faces["face_id"].to_numpy(), vectors, config)
    folder = store.save(name or extractor_name, table, extractor.get_state())
    log.info(
        "feature %s: %d faces x %d -> %s", extractor_name, len(vectors), vectors.shape[1], folder
    )
    return table
