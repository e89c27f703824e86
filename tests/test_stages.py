"""The shard worker (every stage) called directly (no Ray): what it writes, its timings, and inputs that fail."""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd
import pytest

from raypipe.chips import ChipStore, chips_table
from raypipe.config import Config
from raypipe.detect.base import Face
from raypipe.layout import RunLayout
from raypipe.pipeline import shards
from raypipe.pipeline.listing import list_shards
from raypipe.pipeline.topology import ShardWorker
from tests.conftest import SAMPLE_PHOTOS

SPEC = {"name": "feature", "feature": "color-hist"}
MODELS = {"detector": "whole-image", "embedder": "feature:color-hist"}


def shard_stage(out, inputs, shard_size=64):
    config = Config.load(overrides=["extract.detector={name: whole-image}", f"extract.shard_size={shard_size}"])
    layout = RunLayout.at(out)
    keys = list_shards([str(p) for p in inputs], layout, shard_size, accept_archives=False).keys
    return ShardWorker(config.to_dict(), SPEC, MODELS, str(out)), layout, keys


def detector_stage(worker):
    return next(stage for stage in worker.stages if stage.name == "detect")


def test_shard_stage_writes_tables_chips_and_a_marker_naming_its_node(tmp_path, monkeypatch):
    handed: dict[str, bytes] = {}  # the chips' JPEG bytes as the align stage made them

    def spy(face_ids, jpegs):
        handed.update(zip(face_ids, jpegs))
        return chips_table(face_ids, jpegs)

    monkeypatch.setattr(shards, "chips_table", spy)
    broken = tmp_path / "in" / "broken.jpg"
    broken.parent.mkdir()
    broken.write_bytes(b"\xff\xd8 not really")
    paths = sorted((SAMPLE_PHOTOS / "obama").glob("*.jpg"))[:3]
    stage, layout, keys = shard_stage(tmp_path / "run", [*paths, broken], shard_size=2)
    assert len(keys) == 2
    marker = stage.extract_shard(keys[0], node="node-a")
    assert (layout.shards / f"{keys[0]}.done.json").exists() and marker["node"] == "node-a"
    assert not (layout.shards / f"{keys[1]}.done.json").exists()
    stage.extract_shard(keys[1], node="node-b")
    faces, images, errors = (pd.read_parquet(layout.root / f"{t}.parquet") for t in ("faces", "images", "errors"))
    assert sorted(images["status"]) == ["error", "faces", "faces", "faces"]
    assert errors["image_path"].tolist() == [str(broken)] and errors["stage"].tolist() == ["decode"]
    assert len(faces) == 3 and np.allclose(np.linalg.norm(np.stack(faces["embedding"]), axis=1), 1.0, atol=1e-4)
    assert sorted(p.stem for p in layout.chips.iterdir()) == sorted(keys)  # one chips file per shard
    assert ChipStore(layout).read(faces["face_id"]) == handed and len(handed) == 3  # byte-identical
    assert not layout.chip_files.exists()  # no file per face
    nodes = {json.loads(p.read_text())["node"] for p in layout.shards.glob("*.done.json")}
    assert nodes == {"node-a", "node-b"}


class ManyFaces:
    """Five faces per image, 0.3 s per batch: an image's detection time must count once, not per face."""

    def detect_batch(self, images):
        time.sleep(0.3)
        return [[Face((0, 0, 8 + i, 8 + i), 1.0, np.zeros((5, 2), np.float32)) for i in range(5)] for _ in images]


def test_stage_timings_count_each_image_once_whatever_its_face_count(tmp_path):
    paths = sorted((SAMPLE_PHOTOS / "obama").glob("*.jpg"))[:4]
    stage, _, keys = shard_stage(tmp_path / "run", paths)
    detector_stage(stage).model = ManyFaces()
    started = time.perf_counter()
    marker = stage.extract_shard(keys[0], node="n")
    wall = time.perf_counter() - started
    assert marker["faces"] == 20
    assert sum(marker["timings"].values()) <= wall, marker["timings"]


class FailsOnSecond:
    """Fails on a whole batch, then on the image of the width set by the test."""

    def detect_batch(self, images):
        raise KeyError("batch failed")

    def detect(self, image):
        if image.shape[1] == FailsOnSecond.width:
            raise KeyError("unexpected")
        return [Face((0, 0, 10, 10), 1.0, np.zeros((5, 2), np.float32))]


def test_unexpected_errors_in_reading_decoding_or_detecting_become_error_rows(tmp_path, monkeypatch):
    paths = sorted((SAMPLE_PHOTOS / "obama").glob("*.jpg"))[:3]
    stage, layout, keys = shard_stage(tmp_path / "run", paths)
    from raypipe.io.decode import decode_image

    FailsOnSecond.width = decode_image(paths[1].read_bytes(), 10**9, 2400).width
    detector_stage(stage).model = FailsOnSecond()

    def decode_or_fail(data, *args):
        if data == paths[2].read_bytes():
            raise MemoryError("too big")
        return decode_image(data, *args)

    monkeypatch.setattr("raypipe.pipeline.stages.decode.decode_image", decode_or_fail)
    marker = stage.extract_shard(keys[0], node="n")
    errors = pd.read_parquet(layout.errors).set_index("image_path")
    assert marker["images"] == 3 and marker["faces"] == 1 and marker["errors"] == 2
    assert errors.loc[str(paths[1]), "stage"] == "detect" and "KeyError" in errors.loc[str(paths[1]), "reason"]
    assert errors.loc[str(paths[2]), "stage"] == "decode" and "MemoryError: too big" == errors.loc[str(paths[2]), "reason"]


def test_a_file_that_vanishes_before_it_is_read_is_an_error_row(tmp_path):
    gone = tmp_path / "in" / "gone.jpg"
    gone.parent.mkdir()
    gone.write_bytes(min((SAMPLE_PHOTOS / "obama").glob("*.jpg")).read_bytes())
    stage, layout, keys = shard_stage(tmp_path / "run", [gone])
    gone.unlink()
    marker = stage.extract_shard(keys[0], node="n")
    errors = pd.read_parquet(layout.errors)
    assert marker["errors"] == 1 and errors["stage"].tolist() == ["read"]
    assert errors["reason"].iloc[0].startswith("FileNotFoundError")


@pytest.mark.parametrize("size", [1, 3])
def test_list_files_hold_every_input_once_in_shards_of_the_size_asked(tmp_path, size):
    paths = sorted(SAMPLE_PHOTOS.rglob("*.jpg"))[:7]
    _, layout, keys = shard_stage(tmp_path / "run", paths, shard_size=size)
    listed = pd.read_parquet(layout.shards / "inputs")["image_path"].tolist()
    assert len(keys) == -(-7 // size) and sorted(listed) == sorted(map(str, paths))


def test_only_comic_runs_of_pages_split_them_into_panels():
    from raypipe.pipeline.stages import splits_pages

    def splits(*overrides):
        return splits_pages(Config.load(overrides=list(overrides)))

    assert splits("extract.domain=comic")
    assert not splits("extract.domain=comic", "extract.detector={name: whole-image}")  # a folder of face crops
    assert not splits("extract.domain=photo")
