"""People seen once: each side of the identity split holds people kept whole and strangers.

A real library is mostly faces that appear once (bystanders); each must stay alone. On each side
of :func:`raypipe.evaluation.protocol.split_identities`, a seeded share of the identities become
*strangers*: one photo each (all its faces), the person's other photos left out of that side. The
other identities are *kept whole*. No identity is both on one side. Scores: the share of strangers
whose cluster holds any other face, and the BCubed F of the people kept whole, both in one run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from raypipe.evaluation.compare import LabelledFaces
from raypipe.evaluation.metrics import score_clustering
from raypipe.evaluation.protocol import identity_halves

#: Share of each side's identities taken as strangers (one photo each): as in issue 27's library
#: (1,000 of 1,240 people seen once).
STRANGER_SHARE = 0.8


@dataclass(frozen=True)
class StrangerSet:
    """One side's faces, and which scored faces are strangers (the rest are people kept whole)."""

    faces: LabelledFaces
    stranger: np.ndarray  # bool per face: the scored face of a stranger's one photo


def with_strangers(
    faces: LabelledFaces, *, share: float = STRANGER_SHARE, seed: int = 0
) -> StrangerSet:
    """``faces`` with a ``share`` of its identities cut to one random photo each (``seed``)."""
    rng = np.random.default_rng(seed)
    scored = np.flatnonzero(faces.scored)
    names = np.unique(faces.labels[scored].astype(str))
    strangers = set(names[rng.random(len(names)) < share].tolist())
    photo_of = {}  # stranger -> the image kept
    for row in rng.permutation(scored):
        name = str(faces.labels[row])
        if name in strangers:
            photo_of.setdefault(name, faces.groups[row])
    kept_photos = set(photo_of.values())
    label_of_image = {faces.groups[row]: str(faces.labels[row]) for row in scored}
    keep = np.array(
        [label_of_image.get(g) not in strangers or g in kept_photos for g in faces.groups]
    )
    subset = faces.subset(keep)
    stranger = subset.scored & np.isin(subset.labels.astype(str), list(strangers))
    return StrangerSet(subset, stranger)


def stranger_sides(
    faces: LabelledFaces, *, split_seed: int, draws: int = 1, share: float = STRANGER_SHARE
) -> dict[str, list[StrangerSet]]:
    """``{"fit": [...], "held_out": [...]}``: the identity split of ``split_seed``, and ``draws``
    stranger draws on each side."""
    halves = identity_halves(faces, seed=split_seed)
    return {
        side: [with_strangers(half, share=share, seed=1000 * split_seed + d) for d in range(draws)]
        for side, half in halves.items()
    }


def stranger_scores(case: StrangerSet, predicted) -> dict[str, float]:
    """Strangers merged and the BCubed F of the people kept whole, from one run's ``predicted``
    clusters (one per face of ``case.faces``; -1: unassigned, so alone).

    ``merged``: the share of strangers whose cluster holds another labelled face (a person's or a
    stranger's), ``into_person`` those holding a person kept whole; ``unlabelled``: the share
    whose cluster holds only unlabelled faces (bystanders, who may be the stranger seen again).
    """
    predicted = np.asarray(predicted)
    faces = case.faces
    clustered = predicted >= 0
    cluster = np.where(clustered, predicted, 0)

    def holding(rows: np.ndarray) -> np.ndarray:
        """Per face: its cluster holds ``rows`` faces other than itself."""
        counts = np.bincount(cluster[rows & clustered], minlength=int(cluster.max()) + 1)
        return clustered & (counts[cluster] > rows.astype(int))

    whole = faces.scored & ~case.stranger
    merged = case.stranger & holding(faces.scored)
    strangers = max(int(case.stranger.sum()), 1)
    people = score_clustering(faces.labels[whole], predicted[whole])
    every = score_clustering(faces.labels[faces.scored], predicted[faces.scored])
    return {
        "strangers": int(case.stranger.sum()),
        "merged": merged.sum() / strangers,
        "into_person": (case.stranger & holding(whole)).sum() / strangers,
        "unlabelled": (case.stranger & ~merged & holding(~faces.scored)).sum() / strangers,
        "people": int(people["n_true_clusters"]),
        "people_f": people["bcubed_f"],
        "all_f": every["bcubed_f"],
        "clusters": len(np.unique(predicted[faces.scored & clustered]))
        + int((faces.scored & ~clustered).sum()),
    }


#: The issue's library: 1,000 people seen once beside 240 people with more photos.
SCALE_STRANGERS = 1000
SCALE_PEOPLE = 240


def merged_at_scale(
    scores: dict, strangers: int = SCALE_STRANGERS, people: int = SCALE_PEOPLE
) -> float:
    """``scores["merged"]`` carried to a run of ``strangers`` and ``people``: a stranger pairs with
    another stranger in proportion to the other strangers, joins a person in proportion to the
    people (linear in the candidates, so valid while the shares are small)."""
    with_strangers = scores["merged"] - scores["into_person"]
    return with_strangers * (strangers - 1) / max(scores["strangers"] - 1, 1) + scores[
        "into_person"
    ] * people / max(scores["people"], 1)


def seen_once(faces: LabelledFaces) -> StrangerSet:
    """A user's labelled run as it is: the people with one scored face are its strangers."""
    labels = faces.labels[faces.scored].astype(str)
    names, counts = np.unique(labels, return_counts=True)
    stranger = faces.scored & np.isin(faces.labels.astype(str), names[counts == 1])
    return StrangerSet(faces, stranger)
