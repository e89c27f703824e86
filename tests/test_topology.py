"""One stage list, two topologies: the separate pools (the GPU layout, here on CPU) write what the
fused shard tasks write; the stage contract refuses broken stage lists and stages."""

from __future__ import annotations

import logging

import pandas as pd
import pytest

from raypipe.config import Config
from raypipe.pipeline.contract import Stage, StageContractError, check_chain
from raypipe.pipeline.extract import extract
from raypipe.pipeline.stages import build_stages
from raypipe.pipeline.topology import START_COLUMNS
from raypipe.pipeline.work import ShardWork
from tests.conftest import SAMPLE_PHOTOS

SETTINGS = ["extract.detector={name: whole-image}", "extract.embedder={name: feature, feature: color-hist}",
            "extract.shard_size=3", "tracking.enabled=false"]  # fmt: skip


def tables(out) -> dict[str, pd.DataFrame]:
    return {
        name: pd.read_parquet(out / f"{name}.parquet").sort_values(key).reset_index(drop=True)
        for name, key in (("faces", "face_id"), ("images", "image_id"), ("errors", "image_path"))
    }


def test_separate_stage_pools_write_the_same_shards_as_fused_tasks(tmp_path, ray_session, caplog):
    broken = tmp_path / "in" / "broken.jpg"
    broken.parent.mkdir()
    broken.write_bytes(b"\xff\xd8 not really")
    inputs = [str(p) for p in sorted((SAMPLE_PHOTOS / "obama").glob("*.jpg"))[:4]] + [str(broken)]
    fused = extract(inputs, str(tmp_path / "fused"), Config.load(overrides=[*SETTINGS, "ray.topology=fused"]))
    with caplog.at_level(logging.INFO, logger="raypipe.pipeline.resources"):
        pools = extract(inputs, str(tmp_path / "pools"), Config.load(overrides=[*SETTINGS, "ray.topology=pools"]))
    assert any(r.getMessage().startswith("stage pools: {'decode'") for r in caplog.records)
    assert (pools.images, pools.faces, pools.errors) == (fused.images, fused.faces, fused.errors) == (5, 4, 1)
    for name, table in tables(tmp_path / "pools").items():
        pd.testing.assert_frame_equal(table, tables(tmp_path / "fused")[name], check_exact=False, rtol=1e-5)
    chips = [sorted(pd.read_parquet(tmp_path / run / "chips.parquet")["face_id"]) for run in ("pools", "fused")]
    assert chips[0] == chips[1] and len(chips[0]) == 4


def test_a_stage_list_without_an_embed_stage_is_refused_before_any_work():
    stages = build_stages(Config.load(overrides=SETTINGS), {"name": "feature", "feature": "color-hist"})
    check_chain(stages, START_COLUMNS)
    with pytest.raises(StageContractError, match="faces.embedding"):
        check_chain(stages[:-1], START_COLUMNS)
    with pytest.raises(StageContractError, match="stage align needs"):
        check_chain([stages[0], *stages[2:]], START_COLUMNS)


class Forgetful(Stage):
    name = "forgetful"
    gives = frozenset({"faces.embedding"})

    def process(self, work: ShardWork) -> None:
        pass


def test_a_stage_that_does_not_give_its_declared_columns_fails_loudly():
    with pytest.raises(StageContractError, match="forgetful did not give"):
        Forgetful()(ShardWork.start("k", ["a.jpg"], ["0"]))


def test_the_align_stage_of_an_embedder_pinned_to_a_gpu_sets_up_on_a_cpu_worker(tmp_path):
    """In separate pools alignment runs on CPU tasks: it must not need the embedder's GPU."""
    model = tmp_path / "fr_feature.onnx"
    model.write_bytes(b"loaded only by embed()")
    spec = {"name": "arcface-onnx", "model_path": str(model), "device": "cuda"}
    stages = build_stages(Config.load(overrides=["extract.detector={name: rfb, model_root: /m}"]), spec)
    align = next(stage for stage in stages if stage.name == "align")
    align.setup()
    assert align.aligner.chip_size == 112 and not align.aligner.uses_gpu
    assert next(stage for stage in stages if stage.name == "embed").gpu_capable
