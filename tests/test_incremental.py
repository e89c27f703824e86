"""`raypipe cluster NEW --into OLD`: new faces join old clusters with stable ids, new people get new ids."""

import shutil
from pathlib import Path

import pandas as pd
import pytest

from raypipe.cli import main

NEWCOMER = "jack_dorsey"


def _subrun(sample_run: Path, out: Path, keep) -> Path:
    """A run folder holding the sample run's faces whose image paths ``keep`` accepts."""
    out.mkdir()
    for table in ("faces", "images"):
        frame = pd.read_parquet(sample_run / f"{table}.parquet")
        frame[frame.image_path.map(keep)].to_parquet(out / f"{table}.parquet")
    shutil.copytree(sample_run / "chips.parquet", out / "chips.parquet")
    shutil.copy(sample_run / "config.json", out / "config.json")
    return out


@pytest.fixture
def old_and_new(sample_run, tmp_path):
    images = pd.read_parquet(sample_run / "images.parquet")["image_path"]
    first_two = {p for _, g in images.groupby(images.map(lambda p: Path(p).parent.name)) for p in sorted(g)[:2]}
    old = _subrun(sample_run, tmp_path / "old", lambda p: p in first_two and NEWCOMER not in p)
    new = _subrun(sample_run, tmp_path / "new", lambda p: p not in first_two or NEWCOMER in p)
    assert main(["cluster", str(old), "--no-tracking"]) == 0
    return old, new


def _person(path: str) -> str:
    return Path(path).parent.name


def test_new_faces_keep_old_ids_and_newcomers_get_new_ones(old_and_new):
    old, new = old_and_new
    old_clusters = pd.read_csv(old / "clusters.csv")
    before = old_clusters.copy()
    assert main(["cluster", str(new), "--into", str(old), "--no-tracking"]) == 0
    pd.testing.assert_frame_equal(pd.read_csv(old / "clusters.csv"), before)  # old run untouched
    old_clusters["person"] = old_clusters.image_path.map(_person)
    id_of = old_clusters[old_clusters.cluster >= 0].groupby("person").cluster.agg(lambda c: c.mode()[0])
    new_clusters = pd.read_csv(new / "clusters.csv")
    new_clusters["person"] = new_clusters.image_path.map(_person)
    known = new_clusters[(new_clusters.person != NEWCOMER) & (new_clusters.cluster >= 0)]
    agreement = (known.cluster == known.person.map(id_of)).mean()
    assert agreement >= 0.9, known
    newcomer = new_clusters[new_clusters.person == NEWCOMER].cluster
    assert (newcomer > old_clusters.cluster.max()).mean() >= 0.8
    assert newcomer.nunique() == 1


def test_joining_runs_of_different_models_is_refused(old_and_new, capsys):
    old, new = old_and_new
    faces = pd.read_parquet(new / "faces.parquet")
    faces["embedder"] = "arcface-512"
    faces.to_parquet(new / "faces.parquet")
    assert main(["cluster", str(new), "--into", str(old), "--no-tracking"]) == 2
    assert "different models" in capsys.readouterr().err
