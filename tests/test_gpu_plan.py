"""Actor pool plans: fractional GPUs that fit the devices, GPU batches, CPU fallback, a lost actor survived."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from raypipe.config import ExtractConfig, RayConfig
from raypipe.pipeline.resources import plan_fused, plan_stages


@pytest.mark.parametrize("gpus", [1, 2, 8])
@pytest.mark.parametrize("detect_gpu", [True, False])
def test_gpu_stages_never_ask_for_more_gpus_than_exist(gpus, detect_gpu):
    detect, embed = plan_stages(RayConfig(), ExtractConfig(), detect_gpu, True, cpus=16, gpus=gpus)
    used = detect.concurrency * detect.num_gpus + embed.concurrency * embed.num_gpus
    assert used <= gpus + 1e-9
    assert used >= 0.75 * gpus, "GPUs left idle"
    assert 0 < embed.num_gpus <= 1 and embed.concurrency >= 1
    assert (detect.num_gpus > 0) == detect_gpu


def test_embedding_on_gpu_takes_larger_batches():
    extract = ExtractConfig(embed_batch_size=32)
    _, on_gpu = plan_stages(RayConfig(gpu_embed_batch_size=512), extract, False, True, cpus=8, gpus=1)
    _, on_cpu = plan_stages(RayConfig(gpu_embed_batch_size=512), extract, False, True, cpus=8, gpus=0)
    assert (on_gpu.batch_size, on_cpu.batch_size) == (512, 32)
    assert on_gpu.map_batches_args()["num_gpus"] == on_gpu.num_gpus
    assert "num_gpus" not in on_cpu.map_batches_args()


def test_gpu_model_without_gpus_falls_back_to_cpu_with_a_log_line(caplog):
    with caplog.at_level(logging.INFO, logger="raypipe.pipeline.resources"):
        detect, embed = plan_stages(RayConfig(), ExtractConfig(), True, True, cpus=2, gpus=0)
    assert detect.num_gpus == embed.num_gpus == 0
    assert sum("cluster has none: running on CPU" in r.getMessage() for r in caplog.records) == 2


def test_explicit_actor_counts_share_the_gpus():
    _, embed = plan_stages(RayConfig(embed_actors=3), ExtractConfig(), False, True, cpus=8, gpus=1)
    assert embed.concurrency == 3 and embed.concurrency * embed.num_gpus <= 1


def test_a_stage_planned_by_raypipe_survives_a_lost_actor(tmp_path, ray_session):
    """The arguments raypipe gives map_batches keep Ray Data's worker-loss handling (see
    resources.py): the dead actor is replaced and its batch redone, no row lost."""
    import ray.data

    class DiesOnFirstBatch:  # defined here so that Ray ships it by value to the workers
        def __init__(self, marker: str):
            self.marker = Path(marker)

        def __call__(self, batch):
            if not self.marker.exists():  # the first actor to get a batch dies
                self.marker.touch()
                os._exit(1)
            return batch

    plan = plan_fused(RayConfig(), ExtractConfig(), cpus=2)
    marker = tmp_path / "died"
    dataset = ray.data.from_items([{"id": i} for i in range(8)], override_num_blocks=4).map_batches(
        DiesOnFirstBatch, fn_constructor_args=(str(marker),), batch_format="numpy",
        **plan.map_batches_args(),
    )  # fmt: skip
    assert sorted(row["id"] for row in dataset.take_all()) == list(range(8))
    assert marker.exists()


def test_gpu_need_is_decided_by_the_model_class_not_the_drivers_hardware():
    from raypipe.detect import DETECTORS
    from raypipe.pipeline.extract import wants_gpu

    mtcnn, hog = DETECTORS.resolve("mtcnn"), DETECTORS.resolve("dlib-hog")
    assert wants_gpu(mtcnn, {"name": "mtcnn"})  # even on this GPU-less machine
    assert not wants_gpu(mtcnn, {"name": "mtcnn", "device": "cpu"})
    assert not wants_gpu(hog, {"name": "dlib-hog"})
