"""Folder labels, one rule for every consumer: the largest face of an image carries its folder."""

from __future__ import annotations

import numpy as np
import pandas as pd

from raypipe.evaluation.compare import load_labelled_faces
from raypipe.evaluation.labels import face_labels, folder_label, label_targets


def faces_table(paths_and_sizes: list[tuple[str, int]]) -> pd.DataFrame:
    return pd.DataFrame({
        "image_path": [p for p, _ in paths_and_sizes],
        "image_id": [p.rsplit("/", 1)[-1] for p, _ in paths_and_sizes],
        "x1": 0, "y1": 0, "x2": [s for _, s in paths_and_sizes], "y2": [s for _, s in paths_and_sizes],
        "embedding": [np.ones(4, np.float32)] * len(paths_and_sizes),
    })  # fmt: skip


def test_folder_label_of_local_paths_needs_the_image_under_the_labels_root(tmp_path):
    image = str(tmp_path / "people" / "ada" / "1.jpg")
    assert folder_label(image, str(tmp_path / "people")) == "ada"
    assert folder_label(image, None) == "ada"
    assert folder_label(image, str(tmp_path / "other")) is None


def test_folder_label_of_uris_compares_prefixes_not_local_files():
    assert folder_label("s3://bucket/people/ada/1.jpg", "s3://bucket/people/") == "ada"
    assert folder_label("s3://bucket/people/ada/1.jpg", "s3://bucket/peop") is None
    assert folder_label("s3://bucket/people/ada/1.jpg", None) == "ada"
    assert folder_label("/local/people/ada/1.jpg", "s3://bucket/people") is None


def test_only_the_largest_face_of_an_image_carries_the_label_unless_a_label_column_exists():
    faces = faces_table([("p/ada/1.jpg", 10), ("p/ada/1.jpg", 30), ("p/bob/2.jpg", 5)])
    assert face_labels(faces).tolist() == [None, "ada", "bob"]
    assert face_labels(faces.assign(label=["x", "y", "z"])).tolist() == ["x", "y", "z"]
    targets = label_targets(faces[["image_path"]].drop_duplicates(), faces, None)
    assert targets.truth == ["ada", "bob"] and targets.face_rows.tolist() == [1, 2]


def test_the_benchmarks_label_and_score_the_faces_the_evaluation_does(tmp_path):
    faces = faces_table([("p/ada/1.jpg", 10), ("p/ada/1.jpg", 30), ("p/bob/2.jpg", 5), ("p/bob/3.jpg", 7)])
    faces.to_parquet(tmp_path / "faces.parquet")
    loaded = load_labelled_faces(tmp_path / "faces.parquet")
    assert loaded.scored.tolist() == [False, True, True, True]
    assert loaded.labels[loaded.scored].tolist() == face_labels(faces)[loaded.scored].tolist() == ["ada", "bob", "bob"]
