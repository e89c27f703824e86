"""Cosine-distance thresholds for "same person", per embedding model, calibrated on real faces.

Two thresholds per model: ``average`` bounds the mean distance between two clusters that
average-linkage agglomerative clustering still merges; ``pair`` bounds a single link: a k-NN
graph edge (Chinese Whispers, connected components, Leiden), a FINCH first-neighbour link,
DBSCAN's eps. Calibrated on ``../shared/data/photos`` (193 photos, 32 people) with
``bench/cluster_calibrate.py``.
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
    # photos: average linkage reaches NMI and BCubed F >= 0.97 for 0.07..0.10 (dlib) and
    # 0.48..0.74 (ArcFace); graph edges for 0.06..0.08 and 0.42..0.60 (the smaller range of
    # Chinese Whispers, connected components and FINCH). Values are mid-range.
    "dlib-resnet-128": SamePerson(average=0.085, pair=0.07),
    "arcface-512": SamePerson(average=0.60, pair=0.50),
    # drawn faces (the shipped encoder, raypipe.features.drawn): best BCubed F on the TRAINING
    # characters of ../shared/data/anime (bench/drawn_clusters.py --characters training --sweep).
    "feature:drawn": SamePerson(average=0.45, pair=0.20),
}
#: Which model an embedding of this length most likely comes from, when none is named.
MODEL_BY_DIM = {128: "dlib-resnet-128", 512: "arcface-512"}
KINDS = ("average", "pair")


def same_person_threshold(
    model: str | None, kind: str = "average", dim: int | None = None
) -> float:
    """Calibrated threshold of ``kind`` for ``model`` (if unnamed: the usual model of ``dim``)."""
    if kind not in KINDS:
        raise ValueError(f"unknown threshold kind {kind!r}; choose one of {KINDS}")
    if model is None:
        if dim not in MODEL_BY_DIM:
            raise ValueError(
                f"no embedding model named and no calibrated model of dimension {dim}; "
                f"pass threshold= or model= (one of {sorted(CALIBRATION)})"
            )
        model = MODEL_BY_DIM[dim]
        log.info("no embedding model named; %d-d embeddings read as %s", dim, model)
    if model not in CALIBRATION:
        raise ValueError(
            f"no calibrated threshold for model {model!r} (known: {sorted(CALIBRATION)}); "
            "pass threshold= explicitly"
        )
    return getattr(CALIBRATION[model], kind)
