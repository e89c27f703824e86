"""Compute a feature for every face of a run and store it (``RUN/features/<name>/``)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import cv2
import numpy as np
import pandas as pd

from raypipe.features import FEATURES
from raypipe.features.base import FeatureExtractor
from raypipe.layout import RunLayout
from raypipe.registry import split_spec
from raypipe.research.store import FeatureTable, ResultStore

log = logging.getLogger(__name__)


def read_chip(layout: RunLayout, face_id: str) -> np.ndarray:
    """The aligned RGB uint8 chip of ``face_id``."""
    path = layout.chip(face_id)
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise FileNotFoundError(
            f"no readable chip at {path} (was the run extracted with save_chips?)"
        )
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def extractor_inputs(layout: RunLayout, faces: pd.DataFrame, extractor: FeatureExtractor) -> list:
    """What ``extractor`` reads per face: its chip, or a faces.parquet column (``embedding``)."""
    if extractor.input_column == "chip":
        return [read_chip(layout, face_id) for face_id in faces["face_id"]]
    if extractor.input_column not in faces:
        raise ValueError(f"faces.parquet has no {extractor.input_column!r} column")
    return list(faces[extractor.input_column])


class FeatureStage:
    """Ray Data stage: read the chips of a batch of ``face_id`` rows and describe them."""

    def __init__(self, extractor: FeatureExtractor, run_root: str):
        self.extractor = extractor
        self.layout = RunLayout.at(run_root)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        chips = [read_chip(self.layout, str(face_id)) for face_id in batch["face_id"]]
        return {"face_id": batch["face_id"], "feature": self.extractor.transform(chips)}


def describe_on_ray(layout: RunLayout, face_ids: list[str], extractor: FeatureExtractor, batch_size: int) -> np.ndarray:
    """Features of ``face_ids`` computed by an actor pool sized from the cluster, in input order."""
    import ray.data

    from raypipe.pipeline.resources import RESERVED_CPUS, cluster_totals
    from raypipe.ray_session import ensure_ray

    ensure_ray()
    cpus, _ = cluster_totals()
    actors = max(1, int(cpus - RESERVED_CPUS))
    dataset = ray.data.from_items([{"face_id": f} for f in face_ids]).map_batches(
        FeatureStage, fn_constructor_args=(extractor, str(layout.root)), batch_size=batch_size,
        batch_format="numpy", concurrency=actors, num_cpus=round((cpus - RESERVED_CPUS) / actors, 3),
    )  # fmt: skip
    rows = {}
    for batch in dataset.iter_batches(batch_size=None, batch_format="numpy"):
        rows.update(zip(batch["face_id"].tolist(), batch["feature"]))
    return np.stack([rows[f] for f in face_ids]).astype(np.float32) if face_ids else np.zeros((0, 0), np.float32)


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
    ``use_ray``: describe the chips with a Ray Data stage on the cluster (:class:`FeatureStage`);
    a learning extractor is fitted on the driver first and shipped fitted.
    """
    store = ResultStore.at(run)
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
    folder = store.save_feature(name or extractor_name, table, extractor.get_state())
    log.info(
        "feature %s: %d faces x %d -> %s", extractor_name, len(vectors), vectors.shape[1], folder
    )
    return table
