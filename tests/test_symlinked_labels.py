"""A labels folder made of symlinks (``ln -s`` of a few images per person into ``subset/<person>/``)
labels its links: ``run --labels``, ``eval``, ``tune`` and the research commands score it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest

from raypipe.cli import main
from raypipe.evaluation.labels import folder_label
from tests.conftest import REPO, SAMPLE_PHOTOS

PEOPLE = ("ariel_sharon", "colin_powell", "george_w_bush")
PER_PERSON = 2


def link_subset(root: Path) -> Path:
    """``root/subset/<person>/`` holding symlinks to the first images of a few sample people."""
    subset = root / "subset"
    for person in PEOPLE:
        (subset / person).mkdir(parents=True)
        for image in sorted((SAMPLE_PHOTOS / person).iterdir())[:PER_PERSON]:
            (subset / person / image.name).symlink_to(image)
    return subset


@pytest.fixture(scope="module")
def subset_run(tmp_path_factory, ray_session) -> tuple[Path, Path]:
    """The symlinked subset and its run (``raypipe run subset --out R --labels subset``)."""
    root = tmp_path_factory.mktemp("symlinked")
    subset, run = link_subset(root), root / "run"
    assert main(["run", str(subset), "--out", str(run), "--labels", str(subset), "--no-tracking"]) == 0
    return subset, run


def test_folder_label_follows_the_path_the_user_gave_through_symlinks(tmp_path):
    subset = link_subset(tmp_path)
    link = subset / PEOPLE[0] / min(os.listdir(subset / PEOPLE[0]))
    assert link.is_symlink() and not link.resolve().is_relative_to(subset)
    assert folder_label(str(link), str(subset)) == PEOPLE[0]
    assert folder_label(str(link), str(tmp_path / "elsewhere")) is None
    alias = tmp_path / "alias"  # a labels folder that is itself a link to the images' folder
    alias.symlink_to(SAMPLE_PHOTOS, target_is_directory=True)
    assert folder_label(str(SAMPLE_PHOTOS / "obama" / "x.jpg"), str(alias)) == "obama"


def test_run_with_symlinked_labels_scores_every_linked_image(subset_run):
    _, run = subset_run
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["images_scored"] == len(PEOPLE) * PER_PERSON


def test_eval_scores_a_run_against_a_symlinked_labels_folder(subset_run):
    subset, run = subset_run
    (run / "metrics.json").unlink()
    assert main(["eval", str(run), "--labels", str(subset), "--no-tracking"]) == 0
    assert json.loads((run / "metrics.json").read_text())["images_scored"] == len(PEOPLE) * PER_PERSON


def test_tune_scores_trials_against_a_symlinked_labels_folder(subset_run, tmp_path):
    subset, run = subset_run
    code = main(["tune", str(run), "--space", str(REPO / "tune" / "photos.yaml"), "--labels", str(subset),
                 "--search", "random", "--num-samples", "2", "--no-tracking"])  # fmt: skip
    assert code == 0
    results = pd.read_csv(run / "tune" / "results.csv")
    assert results["bcubed_f"].notna().all() and (results["status"] == "ok").all()


def test_features_sweep_finds_the_people_of_a_symlinked_run(subset_run):
    _, run = subset_run
    assert main(["features", "extract", str(run), "--name", "color-hist", "--no-tracking"]) == 0
    code = main(["features", "sweep", str(run), "--features", "color-hist",
                 "--clusterers", "kmeans:n_clusters=true-k,n_init=2", "--no-tracking"])  # fmt: skip
    assert code == 0
    results = pd.read_csv(run / "results" / "results.csv")
    assert (results["clusterer.n_clusters"] == len(PEOPLE)).all() and results["bcubed_f"].notna().all()
