"""People seen once: the stranger protocol, its scores, and ``auto`` keeping look-alike strangers apart."""

import numpy as np
import pytest

from raypipe.cluster.auto import AutoClusterer
from raypipe.evaluation.compare import LabelledFaces
from raypipe.evaluation.strangers import (
    StrangerSet,
    merged_at_scale,
    seen_once,
    stranger_scores,
    stranger_sides,
    with_strangers,
)
from raypipe.testing.realistic_faces import make_realistic_faces


def labelled(people: int = 40, photos: int = 5, extra_face_every: int = 7) -> LabelledFaces:
    """``people`` x ``photos`` images; every ``extra_face_every``-th image also holds a bystander."""
    labels, groups, scored = [], [], []
    for image in range(people * photos):
        labels.append(f"person_{image // photos}")
        groups.append(image)
        scored.append(True)
        if image % extra_face_every == 0:
            labels.append(None)
            groups.append(image)
            scored.append(False)
    n = len(labels)
    X = np.random.default_rng(0).normal(size=(n, 16)).astype(np.float32)
    return LabelledFaces(X, np.array(labels, dtype=object), np.array(groups), "m", np.array(scored))


def test_no_identity_is_both_a_stranger_and_whole_on_one_side():
    for (side,) in stranger_sides(labelled(), split_seed=3).values():
        names = side.faces.labels[side.faces.scored].astype(str)
        strangers = set(names[side.stranger[side.faces.scored]])
        whole = set(names[~side.stranger[side.faces.scored]])
        assert strangers and whole and not strangers & whole
        assert all((names == name).sum() == 1 for name in strangers)  # one photo each


def test_a_stranger_keeps_every_face_of_its_one_photo_and_sides_share_no_identity():
    faces = labelled(extra_face_every=1)  # every image has a bystander
    sides = {name: draws[0] for name, draws in stranger_sides(faces, split_seed=1).items()}
    for side in sides.values():
        for image in side.faces.groups[side.stranger]:
            assert (side.faces.groups == image).sum() == 2
    fit, held = (set(s.faces.labels[s.faces.scored].astype(str)) for s in sides.values())
    assert not fit & held


def test_the_stranger_draw_depends_on_the_seed_only():
    faces = labelled()
    first, again, other = (with_strangers(faces, share=0.5, seed=s).stranger for s in (4, 4, 5))
    assert first.tolist() == again.tolist() and first.tolist() != other.tolist()


def test_a_stranger_counts_as_merged_with_any_labelled_face_and_apart_when_alone_or_unassigned():
    labels = np.array(["a", "a", "b", "c", "d", "e", "f", None], dtype=object)
    scored = np.array([True] * 7 + [False])
    faces = LabelledFaces(np.eye(8, dtype=np.float32), labels, np.arange(8), "m", scored)
    case = StrangerSet(faces, np.array([False, False, True, True, True, True, True, False]))
    # b joins a; c and d pair; e unassigned; f with an unlabelled face only
    scores = stranger_scores(case, [0, 0, 0, 1, 1, -1, 2, 2])
    assert scores["merged"] == 0.6 and scores["into_person"] == 0.2 and scores["unlabelled"] == 0.2
    assert scores["people_f"] == 1.0 and scores["all_f"] < 1.0
    assert merged_at_scale(scores, strangers=9, people=2) == pytest.approx(
        0.4 * 8 / 4 + 0.2 * 2 / 1
    )


def test_people_with_one_photo_in_a_run_are_its_strangers():
    labels = np.array(["a", "a", "b", None, "c"], dtype=object)
    scored = np.array([True, True, True, False, True])
    faces = LabelledFaces(
        np.eye(5, dtype=np.float32), labels, np.array([0, 1, 2, 2, 3]), "m", scored
    )
    assert seen_once(faces).stranger.tolist() == [False, False, True, False, True]


def at_distances(distances: list[float], first_dim: int) -> np.ndarray:
    """Unit rows in their own dimensions of a 16-d space: a reference, then one row at cosine
    distance ``distances[i]`` from it in a direction of its own."""
    axis = np.eye(16)
    rows = [axis[first_dim]]
    for i, d in enumerate(distances):
        rows.append((1 - d) * axis[first_dim] + np.sqrt(1 - (1 - d) ** 2) * axis[first_dim + i + 1])
    return np.array(rows, np.float32)


def test_auto_splits_a_far_pair_but_keeps_a_close_pair_and_a_loose_trio():
    far_pair = at_distances([0.55], 0)
    trio = at_distances([0.3, 0.3], 2)  # the outer two are 0.51 apart: one person, 3 photos
    close_pair = at_distances([0.4], 5)
    X = np.vstack([far_pair, trio, close_pair])
    auto = AutoClusterer(threshold=0.6, lone_pair_distance=0.5, attach_leftovers=False)
    labels = auto.fit(X).labels_
    assert labels[0] != labels[1]  # two faces 0.55 apart: two people seen once
    assert len(set(labels[2:5])) == 1 and labels[5] == labels[6] and len(set(labels)) == 4
    unlimited = AutoClusterer(threshold=0.6, lone_pair_distance=2.0, attach_leftovers=False)
    assert unlimited.fit(X).labels_[0] == unlimited.labels_[1]


def test_default_auto_keeps_synthetic_strangers_apart_where_the_previous_defaults_merged_them():
    # ~45% of faces seen once, as in a library of 1,000 strangers beside 240 people (issue 27)
    synthetic = make_realistic_faces(2000, 128, seed=1, params={"noise_share": 0.45})
    n = len(synthetic.X)
    faces = LabelledFaces(
        synthetic.X, synthetic.labels.astype(str), np.arange(n), "arcface-512", np.ones(n, bool)
    )
    case = seen_once(faces)
    assert case.stranger.sum() >= 800

    def scores(**settings) -> dict:
        return stranger_scores(
            case, AutoClusterer(model="arcface-512", **settings).fit(faces.X).labels_
        )

    default = scores()
    previous = scores(threshold=0.66, lone_pair_distance=2.0, leftover_distance=0.60)
    assert default["merged"] <= 0.03 and default["people_f"] >= 0.97
    assert previous["merged"] >= 0.15
