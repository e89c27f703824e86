"""The calibration protocol: identities split into disjoint fit / held-out halves, scores."""

import numpy as np

from raypipe.evaluation.compare import LabelledFaces
from raypipe.evaluation.protocol import (
    held_out_scores,
    identity_halves,
    identity_side,
    split_identities,
)


def test_no_identity_is_on_both_sides_and_every_face_is_on_one():
    labels = np.array([f"person_{i % 40}" for i in range(400)])
    sides = split_identities(labels)
    assert not set(labels[sides["fit"]]) & set(labels[sides["held_out"]])
    assert (sides["fit"] ^ sides["held_out"]).all()
    assert 10 <= len(set(labels[sides["fit"]])) <= 30  # about half of the 40 people each


def test_a_person_keeps_its_side_across_datasets_and_spellings():
    names = [f"Person_{i}" for i in range(50)]
    lfw = split_identities(np.array(names))["fit"]
    photos = split_identities(np.array([n.lower().replace("_", " ") for n in names[::-1]]))["fit"]
    assert lfw.tolist() == photos[::-1].tolist()


def test_the_seed_changes_the_split():
    names = [f"p{i}" for i in range(64)]
    assert [identity_side(n, seed=0) for n in names] != [identity_side(n, seed=1) for n in names]


def test_halves_hold_only_their_identities_faces():
    labels = np.array(["a", "a", "b", "c", "c", "d"] * 10)
    faces = LabelledFaces(
        np.eye(60, 8, dtype=np.float32), labels, np.arange(60), "m", np.ones(60, bool)
    )
    halves = identity_halves(faces)
    assert len(halves["fit"].X) + len(halves["held_out"].X) == 60
    assert not set(halves["fit"].labels) & set(halves["held_out"].labels)


def test_an_unlabelled_face_goes_to_the_side_of_its_image():
    labels = np.array(["a", None, "b", None, "c", None] * 10, dtype=object)
    images = np.repeat(np.arange(30), 2)  # the second face of each image has no label
    scored = np.array([label is not None for label in labels])
    faces = LabelledFaces(np.eye(60, 8, dtype=np.float32), labels, images, "m", scored)
    for half in identity_halves(faces).values():
        assert np.all(np.bincount(half.groups, minlength=30)[half.groups] == 2)


def test_unassigned_faces_count_as_clusters_found():
    scores = held_out_scores(["a", "a", "b", "b"], [0, 0, -1, -1])
    assert scores["clusters"] == 3 and scores["people"] == 2
    assert scores["bcubed_f"] < 1.0
