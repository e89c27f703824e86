"""What each ``raypipe correct`` action records (no Ray, no models)."""

import pandas as pd
import pytest

from raypipe.corrections import edit
from raypipe.corrections.store import Corrections, check
from raypipe.errors import UsageError


def targets(corrections: Corrections) -> edit.Targets:
    """Cluster 0: a0 a1 a2 and two intruders b0 c0; cluster 1: b1 b2; c1 unassigned."""
    table = pd.DataFrame({
        "face_id": ["a0", "a1", "a2", "b0", "c0", "b1", "b2", "c1"],
        "cluster": [0, 0, 0, 0, 0, 1, 1, -1],
    })  # fmt: skip
    return edit.Targets(table, corrections)


def test_intruders_of_one_cluster_are_kept_from_its_person_not_from_each_other():
    corrections = Corrections()
    edit.not_person(corrections, targets(corrections), "b0", "0")
    edit.not_person(corrections, targets(corrections), "c0", "0")
    assert {c.face: set(c.not_with) for c in corrections.not_} == {
        "b0": {"a0", "a1", "a2"},
        "c0": {"a0", "a1", "a2"},
    }
    edit.merge(corrections, targets(corrections), ["b0", "1"])  # b0 is the person of cluster 1
    check(corrections)


def test_naming_a_cluster_leaves_out_its_intruders_and_renaming_keeps_the_cluster_id():
    corrections = Corrections()
    edit.not_person(corrections, targets(corrections), "b0", "0")
    edit.name(corrections, targets(corrections), "0", "Ada")
    assert corrections.names["Ada"].cluster == 0
    assert set(corrections.names["Ada"].faces) == {"a0", "a1", "a2", "c0"}
    edit.name(corrections, targets(corrections), "0", "Ada Lovelace")
    assert (
        list(corrections.names) == ["Ada Lovelace"]
        and corrections.names["Ada Lovelace"].cluster == 0
    )


def test_a_named_unassigned_face_gets_a_new_cluster_id_and_a_not_takes_a_face_off_its_name():
    corrections = Corrections()
    edit.name(corrections, targets(corrections), "c1", "Cy")
    assert corrections.names["Cy"].cluster == 2  # above every cluster id in use
    edit.name(corrections, targets(corrections), "0", "Ada")
    edit.not_person(corrections, targets(corrections), "c0", "Ada")
    assert "c0" not in corrections.names["Ada"].faces
    check(corrections)


def test_a_merge_then_a_not_on_the_same_pair_is_refused_naming_both():
    corrections = Corrections()
    edit.merge(corrections, targets(corrections), ["0", "1"])
    edit.not_person(corrections, targets(corrections), "b1", "0")
    with pytest.raises(UsageError, match=r"`not b1 0` and `merge 0 1`"):
        check(corrections)
