"""Corrections applied around a clusterer's labels, and the checks of corrections.yaml (no Ray, no models)."""

import numpy as np
import pytest

from raypipe.corrections.apply import apply_corrections
from raypipe.corrections.store import CannotLink, Corrections, MustLink, Person, check
from raypipe.errors import UsageError

FACES = np.array([f"f{i}" for i in range(8)])


def two_people() -> np.ndarray:
    """Faces f0-f3 near one direction, f4-f7 near another (cosine distance ~0.02 within)."""
    rng = np.random.default_rng(0)
    a, b = np.eye(16)[0], np.eye(16)[1]
    return np.stack([a] * 4 + [b] * 4) + 0.05 * rng.standard_normal((8, 16))


def test_merge_gathers_faces_the_clusterer_split():
    labels = np.array([0, 0, 1, 1, 2, 2, 2, 2])
    fixed = apply_corrections(
        Corrections(merge=[MustLink(["f0", "f2"])]), FACES, two_people(), labels
    )
    assert (
        len(set(fixed.labels[:4])) == 1
    )  # f1 and f3 follow: their clusters are mostly merged faces
    assert fixed.labels[0] != fixed.labels[4]


def test_not_moves_a_face_to_the_nearest_allowed_cluster():
    labels = np.array([0, 0, 0, 1, 1, 1, 1, 1])  # f3 (person A) wrongly with B
    corrections = Corrections(not_=[CannotLink("f3", ["f4", "f5"])])
    fixed = apply_corrections(corrections, FACES, two_people(), labels, max_distance=0.5)
    assert fixed.labels[3] == fixed.labels[0] != fixed.labels[4]
    assert fixed.moved == 1


def test_not_without_an_allowed_cluster_makes_a_new_one():
    labels = np.zeros(8, dtype=np.int64)
    corrections = Corrections(not_=[CannotLink("f0", ["f1"])])
    fixed = apply_corrections(corrections, FACES, two_people(), labels, max_distance=0.5)
    assert fixed.labels[0] != fixed.labels[1] and fixed.labels[0] >= 0


def test_named_people_keep_their_cluster_ids_whatever_the_clusterer_numbers():
    corrections = Corrections(names={"Ada": Person(7, ["f0", "f1"]), "Bob": Person(0, ["f4"])})
    fixed = apply_corrections(corrections, FACES, two_people(), np.array([1, 1, 1, 1, 0, 0, 0, 0]))
    assert fixed.labels.tolist() == [7, 7, 7, 7, 0, 0, 0, 0]
    assert fixed.persons == {7: "Ada", 0: "Bob"}


def test_unclustered_faces_of_a_correction_are_reported_with_the_reason():
    corrections = Corrections(merge=[MustLink(["f0", "gone"], made_by="merge 0 9")])
    fixed = apply_corrections(
        corrections, FACES, two_people(), np.zeros(8, np.int64), absent={"gone": "ignored"}
    )
    assert fixed.unhonoured == ["`merge 0 9`: 1 of its 2 faces not clustered (e.g. gone: ignored)"]


def test_a_merge_and_a_not_on_the_same_pair_are_refused_naming_both():
    corrections = Corrections(
        merge=[MustLink(["f0", "f1"], "merge 3 5")], not_=[CannotLink("f1", ["f0"], "not f1 3")]
    )
    with pytest.raises(UsageError, match="`not f1 3`.*`merge 3 5`"):
        check(corrections)


def test_two_names_made_one_person_are_refused():
    corrections = Corrections(
        names={"Ada": Person(0, ["f0"]), "Bob": Person(1, ["f1"])}, merge=[MustLink(["f0", "f1"])]
    )
    with pytest.raises(UsageError, match="'Ada' and name 'Bob'"):
        check(corrections)


def test_unknown_face_ids_are_refused_by_id():
    with pytest.raises(UsageError, match="'nope'"):
        check(Corrections(ignore=["nope"]), known_faces=set(FACES))
