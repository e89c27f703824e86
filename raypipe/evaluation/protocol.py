"""Honest calibration: split labelled faces by identity, fit on one half, report on the other.

An identity's side depends only on its normalised name and the seed (a hash, not the order of
the data), so a person keeps one side in every dataset: ``George_W_Bush`` in LFW and
``george_w_bush`` in the photos are never fitted on in one and scored in the other.

Drawn characters are few (20), so one split cannot tell a setting that generalises from a lucky
one: :func:`character_folds` repeats random splits and leaves each source out, and
:func:`mean_and_worst` summarises the folds.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from raypipe.evaluation.metrics import score_clustering

SIDES = ("fit", "held_out")
#: Seed of the split every figure in docs/ is reported on.
SPLIT_SEED = 0
REPORTED = ("nmi", "pairwise_f", "bcubed_f")


def normalised_identity(name) -> str:
    """Case, spaces and hyphens do not make a new person.

    >>> normalised_identity("George W-Bush")
    'george_w_bush'
    """
    return str(name).strip().lower().replace(" ", "_").replace("-", "_")


def identity_side(name, *, seed: int = SPLIT_SEED) -> str:
    """``fit`` or ``held_out`` for identity ``name`` (about half each, fixed by ``seed``)."""
    digest = hashlib.sha256(f"{seed}:{normalised_identity(name)}".encode()).digest()
    return SIDES[digest[0] & 1]


def split_identities(labels, *, seed: int = SPLIT_SEED) -> dict[str, np.ndarray]:
    """Boolean row masks ``{"fit": ..., "held_out": ...}``: every identity on exactly one side."""
    labels = np.asarray(labels)
    names, codes = np.unique(labels, return_inverse=True)
    sides = np.array([identity_side(name, seed=seed) for name in names])
    return {side: sides[codes] == side for side in SIDES}


def held_out_scores(true_labels, predicted) -> dict[str, float]:
    """NMI, pairwise and BCubed F, clusters found and true (unassigned faces count as singletons)."""
    scores = score_clustering(true_labels, predicted)
    predicted = np.asarray(predicted)
    found = len(np.unique(predicted[predicted >= 0])) + int((predicted < 0).sum())
    return {
        **{key: scores[key] for key in REPORTED},
        "clusters": found,
        "people": int(scores["n_true_clusters"]),
    }


def identity_halves(faces, *, seed: int = SPLIT_SEED) -> dict:
    """``{"fit": ..., "held_out": ...}``: the :class:`LabelledFaces` of each side's identities.

    An unlabelled face (not the largest of its image) goes with its image's labelled face.
    """
    by_image = pd.Series(faces.labels).groupby(faces.groups).transform("first")
    split = split_identities(by_image.fillna("").to_numpy(dtype=object), seed=seed)
    return {side: faces.subset(mask) for side, mask in split.items()}


def fit_and_score(clusterer, faces) -> dict[str, float]:
    """Cluster every face of ``faces`` (image ids as cannot-link groups), score the scored ones."""
    predicted = clusterer.fit(faces.X, groups=faces.groups).labels_
    return held_out_scores(faces.labels[faces.scored], predicted[faces.scored])


@dataclass(frozen=True)
class CharacterFold:
    """One fold: the characters fitted on (training, choosing) and those reported on."""

    name: str
    fit: tuple[str, ...]
    report: tuple[str, ...]

    def masks(self, labels) -> tuple[np.ndarray, np.ndarray]:
        """Boolean row masks of the fit and the report characters among ``labels``."""
        labels = np.asarray(labels)
        return np.isin(labels, self.fit), np.isin(labels, self.report)


def character_folds(source_of: dict[str, str], *, splits: int = 12, seed: int = SPLIT_SEED) -> list[CharacterFold]:
    """``splits`` random halves (half of each source's characters fitted on, the rest reported
    on), then, with two sources or more, one fold per source reporting on it alone."""
    by_source: dict[str, list[str]] = {}
    for name, source in sorted(source_of.items()):
        by_source.setdefault(source, []).append(name)
    folds = []
    for split in range(splits):
        rng = np.random.default_rng([seed, split])
        fit = sorted(str(name) for names in by_source.values() for name in rng.permutation(names)[: len(names) // 2])
        folds.append(CharacterFold(f"random-{split}", tuple(fit), tuple(sorted(set(source_of) - set(fit)))))
    if len(by_source) > 1:
        for source, names in by_source.items():
            others = tuple(sorted(set(source_of) - set(names)))
            folds.append(CharacterFold(f"report-{source}", others, tuple(names)))
    return folds


#: Scores where more is worse (the worst fold is the largest).
MORE_IS_WORSE = frozenset({"unassigned", "alone"})


def mean_and_worst(rows: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    """``{"mean": ..., "worst": ...}`` of each score of the folds' ``rows`` (worst: the least,
    or the most for :data:`MORE_IS_WORSE`)."""
    keys = rows[0].keys()
    worst = {key: (max if key in MORE_IS_WORSE else min)(row[key] for row in rows) for key in keys}
    return {"mean": {key: float(np.mean([row[key] for row in rows])) for key in keys}, "worst": worst}
