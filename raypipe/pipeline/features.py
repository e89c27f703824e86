"""The Ray Data stage of ``raypipe features extract --ray``: describe stored chips on the cluster."""

from __future__ import annotations

import numpy as np

from raypipe.chips import ChipStore
from raypipe.features.base import FeatureExtractor
from raypipe.layout import RunLayout
from raypipe.pipeline.resources import RESERVED_CPUS, cluster_totals


class FeatureStage:
    """Ray Data stage: read the chips of a batch of ``face_id`` rows and describe them."""

    def __init__(self, extractor: FeatureExtractor, run_root: str):
        self.extractor = extractor
        self.chips = ChipStore(RunLayout.at(run_root))

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        chips = self.chips.images([str(face_id) for face_id in batch["face_id"]])
        return {"face_id": batch["face_id"], "feature": self.extractor.transform(chips)}


def describe_on_ray(layout: RunLayout, face_ids: list[str], extractor: FeatureExtractor, batch_size: int) -> np.ndarray:
    """Features of ``face_ids`` computed by an actor pool sized from the cluster, in input order."""
    import ray.data

    from raypipe.ray_session import ensure_ray

    ensure_ray()
    cpus, _ = cluster_totals()
    actors = max(1, int(cpus - RESERVED_CPUS))
    dataset = ray.data.from_items([{"face_id": f} for f in face_ids]).map_batches(
        FeatureStage, fn_constructor_args=(extractor, str(layout.root)), batch_size=batch_size,
        batch_format="numpy", compute=ray.data.ActorPoolStrategy(size=actors), num_cpus=round((cpus - RESERVED_CPUS) / actors, 3),
    )  # fmt: skip
    rows = {}
    for batch in dataset.iter_batches(batch_size=None, batch_format="numpy"):
        rows.update(zip(batch["face_id"].tolist(), batch["feature"]))
    return np.stack([rows[f] for f in face_ids]).astype(np.float32) if face_ids else np.zeros((0, 0), np.float32)
