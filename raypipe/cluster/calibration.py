"""Cosine-distance thresholds for "same person", per embedding model, calibrated on real faces.

Two thresholds per model: ``average`` bounds the mean distance between two clusters that
average-linkage agglomerative clustering still merges; ``pair`` bounds a single edge of a k-NN
graph (Chinese Whispers, connected components, Leiden, DBSCAN's eps). Calibrated on
``../shared/data/photos`` (193 photos, 32 people) with ``bench/cluster_calibrate.py``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SamePerson:
    """Largest cosine distances still read as one person."""

    average: float
    pair: float


CALIBRATION: dict[str, SamePerson] = {
    "dlib-resnet-128": SamePerson(average=0.20, pair=0.18),
    "arcface-512": SamePerson(average=0.65, pair=0.60),
}
#: Which model an embedding of this length most likely comes from, when none is named.
MODEL_BY_DIM = {128: "dlib-resnet-128", 512: "arcface-512"}
KINDS = ("average", "pair")


def same_person_threshold(model: str | None, kind: str = "average", dim: int | None = None) -> float:
    """Calibrated threshold of ``kind`` for ``model`` (or, if unnamed, the usual model of ``dim``)."""
    if kind not in KINDS:
        raise ValueError(f"unknown threshold kind {kind!r}; choose one of {KINDS}")
    if model is None:
        if dim not in MODEL_BY_DIM:
            raise ValueError(f"no embedding model named and no calibrated model of dimension {dim}; "
                             f"pass threshold= or model= (one of {sorted(CALIBRATION)})")
        model = MODEL_BY_DIM[dim]
        log.info("no embedding model named; %d-d embeddings read as %s", dim, model)
    if model not in CALIBRATION:
        raise ValueError(f"no calibrated threshold for model {model!r} (known: {sorted(CALIBRATION)}); "
                         "pass threshold= explicitly")
    return getattr(CALIBRATION[model], kind)
