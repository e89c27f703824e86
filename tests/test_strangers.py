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
    previous = scores(
        threshold=0.66, lone_pair_distance=2.0, leftover_distance=0.60, member_distance=2.0
    )
    assert default["merged"] <= 0.03 and default["people_f"] >= 0.97
    assert previous["merged"] >= 0.15


def person_and_a_lookalike(dims: int = 16) -> np.ndarray:
    """Four photos of one person 0.25 apart (rows 0-3), then a stranger 0.58 from each of them
    (row 4): under the 0.62 average distance from them all, near to none."""
    axis = np.eye(dims)
    person = [np.sqrt(0.75) * axis[0] + 0.5 * axis[1 + i] for i in range(4)]
    cos_phi = 0.42 / np.sqrt(0.75)
    stranger = cos_phi * axis[0] + np.sqrt(1 - cos_phi**2) * axis[5]
    return np.array(person + [stranger], np.float32)


def test_auto_keeps_a_stranger_out_of_a_person_it_is_near_only_on_average():
    X = person_and_a_lookalike()
    settings = {"threshold": 0.62, "lone_pair_distance": 2.0, "leftover_distance": 0.55}
    unlimited = AutoClusterer(member_distance=2.0, **settings).fit(X).labels_
    assert len(set(unlimited)) == 1  # the average links the stranger in
    labels = AutoClusterer(member_distance=0.52, **settings).fit(X).labels_
    assert len(set(labels[:4])) == 1 and labels[4] not in labels[:4]


def test_a_face_left_alone_joins_a_centre_only_with_a_member_within_the_member_distance():
    X = person_and_a_lookalike()  # the stranger is 0.53 from the person's centre
    settings = {"threshold": 0.5, "lone_pair_distance": 2.0, "leftover_distance": 0.55}
    assert len(set(AutoClusterer(member_distance=2.0, **settings).fit(X).labels_)) == 1
    labels = AutoClusterer(member_distance=0.52, **settings).fit(X).labels_
    assert labels[4] not in labels[:4]
    near_one = np.vstack([X[:4], 0.8 * X[0] + 0.6 * np.eye(16)[6]]).astype(np.float32)
    labels = AutoClusterer(member_distance=0.52, **settings).fit(near_one).labels_
    assert len(set(labels)) == 1  # a hard photo 0.2 from one photo still joins


def test_a_photo_near_one_fellow_member_stays_with_its_person():
    X = person_and_a_lookalike()[:4]
    hard = 0.55 * X[0] + np.sqrt(1 - 0.55**2) * np.eye(16)[7]  # 0.45 from photo 0, 0.59 from others
    X = np.vstack([X, hard]).astype(np.float32)
    auto = AutoClusterer(threshold=0.62, lone_pair_distance=2.0, member_distance=0.52)
    assert len(set(auto.fit(X, groups=np.arange(5)).labels_)) == 1


def test_a_close_face_of_another_cluster_does_not_keep_a_stranger_in_a_person():
    X = person_and_a_lookalike()
    stranger = X[4].astype(np.float64)
    near = 0.55 * stranger + np.sqrt(1 - 0.55**2) * np.eye(16)[8]  # 0.45 from the stranger
    away = -(stranger - 0.55 * near) / np.linalg.norm(stranger - 0.55 * near)
    partner = 0.9 * near + np.sqrt(1 - 0.81) * away  # 0.1 from `near`, 0.87 from the stranger
    X = np.vstack([X, near, partner]).astype(np.float32)
    settings = {"threshold": 0.62, "lone_pair_distance": 2.0, "leftover_distance": 0.55}
    labels = AutoClusterer(member_distance=2.0, **settings).fit(X).labels_
    assert labels[4] == labels[0] and labels[5] == labels[6] != labels[0]
    labels = AutoClusterer(member_distance=0.52, **settings).fit(X).labels_
    assert len(set(labels[:4])) == 1 and labels[5] == labels[6]
    assert labels[4] not in set(labels[:4]) | {labels[5]}


def test_a_held_out_run_holds_every_face_of_its_photos_of_held_out_identities_only(tmp_path):
    import pandas as pd

    from bench.strangers import make_held_out_run
    from raypipe.evaluation.protocol import identity_side

    rows = []
    for person in range(30):
        for photo in range(3):
            image = f"p{person}_{photo}"
            for face in range(1 + (photo == 0)):  # the first photo also holds a small bystander
                size = 100.0 - 60 * face
                vector = np.random.default_rng(len(rows)).normal(size=8).tolist()
                rows.append(
                    {"face_id": f"{image}_{face}", "image_id": image, "face_index": face,
                     "image_path": f"/lfw/person_{person}/{image}.jpg", "x1": 0.0, "y1": 0.0,
                     "x2": size, "y2": size, "embedder": "arcface-512", "embedding": vector}
                )  # fmt: skip
    source = tmp_path / "lfw"
    source.mkdir()
    faces = pd.DataFrame(rows)
    faces.to_parquet(source / "faces.parquet")
    faces[["image_id", "image_path"]].drop_duplicates().to_parquet(source / "images.parquet")
    make_held_out_run(source / "faces.parquet", tmp_path / "held", draw=0, share=0.5)
    held = pd.read_parquet(tmp_path / "held" / "faces.parquet")
    people = held["image_path"].str.split("/").str[2]
    assert set(people.map(identity_side)) == {"held_out"}
    photos = held.groupby(people)["image_id"].nunique()
    assert set(photos) == {1, 3} and (photos == 1).any() and (photos == 3).any()
    kept = faces[faces["image_id"].isin(held["image_id"])]
    assert sorted(held["face_id"]) == sorted(kept["face_id"])  # bystanders come along
    images = pd.read_parquet(tmp_path / "held" / "images.parquet")
    assert set(images["image_id"]) == set(held["image_id"])
