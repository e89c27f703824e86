"""Cosine-distance thresholds for "same person": per named embedding model, or read off the data.

Kinds: ``average`` bounds the mean distance between two clusters that average linkage still
merges (the ``auto`` default); ``pair`` bounds a single link: a k-NN graph edge (Chinese
Whispers, connected components, Leiden), a FINCH first-neighbour link, DBSCAN's eps;
``leftover`` bounds the distance from a face ``auto`` left alone to the centre of the cluster it
may still join; ``lone_pair`` bounds the two faces of a cluster of exactly two (two people seen
once pair up where a person with more photos still holds together); ``member`` bounds the
distance from each face of a cluster to its nearest fellow member (a stranger near a person only on
average leaves, and a face left alone joins no cluster without a member that close).

Only named embedding models have calibrated thresholds; a vector's length never names a model.
Vectors of no calibrated model (a feature, a reduction) get the data-driven threshold of
:func:`data_driven_threshold`: similarities of random pairs (almost all of two different people)
give a background median and spread, and "same person" starts ``z`` spreads above it.

Every value below was fitted on the *fit* identities (or characters) of the labelled sets (see
``raypipe.evaluation.protocol``) and is reported on the held-out ones: with
``bench/cluster_calibrate.py``, ``bench/strangers.py`` (ArcFace with people seen once) or
``bench/drawn_protocol.py`` (drawn faces), as each entry says.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Communities:
    """Leiden modularity communities of the k-NN graph (``k`` neighbours, edges within cosine
    ``distance``) at ``resolution``: what ``auto`` clusters a model's vectors into instead of
    average linkage; ``standardised``: of the vectors standardised over the faces clustered
    together (:func:`raypipe.cluster.base.run_standardised`)."""

    distance: float
    k: int
    resolution: float
    standardised: bool = False


@dataclass(frozen=True)
class SamePerson:
    """Largest cosine distances still read as one person."""

    average: float
    pair: float
    leftover: float | None = None  # None: not fitted for this model
    lone_pair: float | None = None  # a cluster of two faces only; None: not fitted, no limit
    member: float | None = None  # to a face's nearest fellow member; None: not fitted, no limit
    communities: Communities | None = None  # None: average linkage (the usual ``auto``)


#: ``average``: fitted on the fit identities of lfw, its crops (as they are; ArcFace also at 40 px)
#: and photos: ArcFace the middle of the plateau (mean BCubed F within 0.005 of the best), dlib
#: the best of a 0.01 grid. ``pair``: fitted on the same fit identities (``bench/cluster_calibrate.py
#: --pair``), the best mean BCubed F of a 0.01 grid both for Chinese Whispers and for the vote of
#: ``cluster --into``, which picked the same values.
#: ``leftover``: fitted on the same fit identities (``bench/cluster_calibrate.py --leftover``):
#: ArcFace the best mean BCubed F of a 0.02 grid; dlib the cut whose number of clusters is closest
#: to the number of people among cuts within 0.005 of the best F. (The count rule's ArcFace cut,
#: 0.82, merged strangers into people on the realistic synthetic load; see docs/clustering.md.)
#: ArcFace ``average``, ``leftover`` and ``lone_pair`` were refitted with people seen once on the
#: fit side (``bench/strangers.py``, docs/photo-calibration.md): the best mean BCubed F of the
#: people kept whole among settings that merge at most 2% of strangers at 1,000 strangers; the
#: earlier 0.66 / 0.60 / none merged 17% of held-out strangers. ``member`` and ``leftover`` were
#: then refitted with that average and lone pair: the fewest strangers merged at scale for a people
#: F no lower (fit side: 1.3% -> 0.37% at scale, F 0.9844 both; leftover 0.55 -> 0.60).
CALIBRATION: dict[str, SamePerson] = {
    "dlib-resnet-128": SamePerson(average=0.08, pair=0.07, leftover=0.08),
    "arcface-512": SamePerson(average=0.62, pair=0.57, leftover=0.60, lone_pair=0.52, member=0.52),
    # drawn faces (the small fallback CNN, raypipe.features.drawn): best BCubed F on the 10
    # anime_fanart characters, 100 crops each (bench/drawn_clusters.py --data
    # ../shared/data/anime_fanart --characters all --per-character 100 --embedders small-cnn --sweep);
    # figures on anime/, which nothing of it was fitted on: docs/drawn-faces.md.
    # leftover 0: not fitted on drawn faces, so no face left alone is attached.
    "feature:drawn": SamePerson(average=0.28, pair=0.22, leftover=0.0),
    # the DenseNet drawn-face encoder with its identity head (raypipe.features.drawn_densenet),
    # fitted on the 10 anime_fanart characters; chosen by bench/drawn_protocol.py --ship on inner
    # folds of those characters only (a head fitted on half of them, the grid scored on the other
    # half): ``communities`` (what ``auto`` runs) the best mean BCubed F among average-linkage and
    # Leiden settings leaving at most 15% of faces alone; ``average``/``leftover`` the best of
    # average linkage alone (used when a threshold is given), ``pair`` the best of Chinese
    # Whispers. Figures on the unseen anime characters: docs/drawn-faces.md.
    # ``communities`` were chosen again with the head fitted on crops averaged with their mirror
    # images and the run standardised (the best mean fit-side F of the protocol's candidates),
    # and again with the head's covariance shrunk 0.15 (issue 25, second set of candidates),
    # and again with the head's input joined with a colour block (issue 25, fourth round: 0.94);
    # the sixth round's blocks 2, 3 and 4 with 20 neighbours were undone by the seventh round's
    # across-source fit side (this is the fourth round's head and graph again); the ninth round's
    # head (refitted with anime_unlabelled pseudo-characters) chose the same graph again, and so
    # did the tenth round's (fitted on crops reframed on their drawn face) and the eleventh's
    # (which also saw each crop whole, as more augmented views); the thirteenth round's (768
    # whitened components, not 384) chose edges within 0.98: in a wider space a face's
    # neighbours lie further off;
    # ``average``, ``leftover`` and ``pair`` are those of an earlier head, not chosen again.
    "feature:drawn-densenet": SamePerson(average=0.82, pair=0.74, leftover=0.92,
                                         communities=Communities(distance=0.98, k=30, resolution=1.0, standardised=True)),
}
#: Background spreads (robust z) above the median random-pair similarity, per threshold kind;
#: ``average`` fitted as above with each model weighing the same. ``pair``: no z serves both
#: models (the fit picks 2.5, at which DBSCAN chains ArcFace's lfw into one cluster; 4.5 chains
#: dlib's), so it stays at 4.5, the ArcFace-like value: name the model, or pass ``threshold=``.
#: ``leftover`` is not read off the data: vectors of no calibrated model attach no leftovers.
DATA_DRIVEN_Z = SamePerson(average=2.3, pair=4.5, leftover=0.0)
KINDS = ("average", "pair", "leftover")
#: Rows sampled on each side of the random pairs that estimate the background similarity.
BACKGROUND_ROWS = 1000


def background_similarity(
    X: np.ndarray, *, rows: int = BACKGROUND_ROWS, seed: int = 0
) -> tuple[float, float]:
    """Median and robust spread (1.4826 x MAD) of the cosine similarity of random pairs of rows."""
    rng = np.random.default_rng(seed)
    first, second = (rng.choice(len(X), min(rows, len(X)), replace=False) for _ in range(2))
    sims = X[first] @ X[second].T
    sims = sims[first[:, None] != second[None, :]]
    median = float(np.median(sims))
    return median, float(1.4826 * np.median(np.abs(sims - median)))


def data_driven_threshold(X: np.ndarray, kind: str = "average", *, seed: int = 0) -> float:
    """Cosine distance ``1 - (median + z * spread)`` of the background similarity of ``X``."""
    median, spread = background_similarity(X, seed=seed)
    similarity = min(median + getattr(DATA_DRIVEN_Z, _checked(kind)) * spread, 0.999)
    log.info("data-driven %s threshold: cosine distance %.3f", kind, 1.0 - similarity)
    return 1.0 - similarity


def same_person_threshold(X: np.ndarray, model: str | None, kind: str = "average") -> float:
    """The calibrated threshold of the named ``model``, else the data-driven one of ``X``."""
    calibrated = getattr(CALIBRATION[model], _checked(kind)) if model in CALIBRATION else None
    if calibrated is not None:
        return calibrated
    log.info("no calibrated threshold for %s: reading it off the data", model or "unnamed vectors")
    return data_driven_threshold(X, kind)


def _checked(kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown threshold kind {kind!r}; choose one of {KINDS}")
    return kind
