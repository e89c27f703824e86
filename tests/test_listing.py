"""Inputs streamed into shard list files: bounded driver memory, stable keys, skipped files recorded."""

from __future__ import annotations

import tracemalloc

import pandas as pd

from raypipe.layout import RunLayout
from raypipe.pipeline import listing
from raypipe.pipeline.listing import list_shards, read_list_file

INPUTS = 200_000


def test_listing_two_hundred_thousand_inputs_keeps_driver_memory_to_one_shard(tmp_path, monkeypatch):
    def many(specs, accept_archives):
        return ((f"/data/images/{i:09d}.jpg", "") for i in range(INPUTS))

    monkeypatch.setattr(listing, "iter_inputs", many)
    layout = RunLayout.at(tmp_path / "run")
    tracemalloc.start()
    shards = list_shards(["/data/images"], layout, shard_size=2_000, accept_archives=False)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert (shards.images, len(shards.keys)) == (INPUTS, INPUTS // 2_000)
    assert peak < 4 * 2**20, f"{peak / 2**20:.1f} MiB: the listing was held in memory"
    listed = pd.read_parquet(layout.shards / "inputs", columns=["image_path"])["image_path"]
    assert listed.is_unique and len(listed) == INPUTS


def test_same_inputs_give_the_same_keys_and_a_changed_shard_a_new_one(tmp_path):
    folder = tmp_path / "in"
    for i in range(5):
        (folder / f"{i}.jpg").parent.mkdir(exist_ok=True)
        (folder / f"{i}.jpg").write_bytes(b"x")
    layout = RunLayout.at(tmp_path / "run")
    first = list_shards([str(folder)], layout, shard_size=2, accept_archives=False).keys
    assert list_shards([str(folder)], layout, shard_size=2, accept_archives=False).keys == first
    (folder / "4.jpg").rename(folder / "5.jpg")
    changed = list_shards([str(folder)], layout, shard_size=2, accept_archives=False).keys
    assert changed[:2] == first[:2] and changed[2] != first[2]
    assert sorted(p.stem for p in (layout.shards / "inputs").iterdir()) == sorted(changed)


def test_shards_start_small_and_double_every_eight_up_to_the_largest_size(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(100):
        (folder / f"{i:03d}.jpg").write_bytes(b"x")
    layout = RunLayout.at(tmp_path / "run")
    keys = list_shards([str(folder)], layout, shard_size=2, accept_archives=False, max_shard_size=8).keys
    sizes = [read_list_file(layout, key).num_rows for key in keys]
    assert sizes == [2] * 8 + [4] * 8 + [8] * 6 + [4]
    fixed = list_shards([str(folder)], RunLayout.at(tmp_path / "fixed"), shard_size=2, accept_archives=False).keys
    assert len(fixed) == 50


def test_files_that_are_not_images_are_error_rows_and_duplicates_are_listed_once(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a.jpg", "b.png", "notes.txt.bak"):
        (folder / name).write_bytes(b"x")
    layout = RunLayout.at(tmp_path / "run")
    shards = list_shards([str(folder), str(folder / "a.jpg")], layout, shard_size=10, accept_archives=False)
    assert (shards.images, shards.skipped) == (2, 1)
    errors = pd.read_parquet(layout.errors)
    assert errors["image_path"].tolist() == [str(folder / "notes.txt.bak")] and errors["stage"].tolist() == ["input"]
