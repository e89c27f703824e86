"""Shard actor pool plans: fractional GPUs that fit the devices, CPU fallback, worker-loss retries."""

from __future__ import annotations

import logging
import os

import pytest

from raypipe.config import RayConfig
from raypipe.pipeline.resources import plan_pool


@pytest.mark.parametrize("gpus", [1, 2, 8])
def test_shard_actors_never_ask_for_more_gpus_than_exist(gpus):
    plan = plan_pool(RayConfig(), True, cpus=16, gpus=gpus)
    used = plan.concurrency * plan.num_gpus
    assert gpus * 0.75 <= used <= gpus + 1e-9, "GPUs over-asked or left idle"
    assert plan.map_batches_args()["num_gpus"] == plan.num_gpus
    assert plan.concurrency * plan.num_cpus <= 16


def test_gpu_model_without_gpus_falls_back_to_cpu_with_a_log_line(caplog):
    with caplog.at_level(logging.INFO, logger="raypipe.pipeline.resources"):
        plan = plan_pool(RayConfig(), True, cpus=2, gpus=0)
    assert plan.num_gpus == 0 and "num_gpus" not in plan.map_batches_args()
    assert sum("cluster has none: running on CPU" in r.getMessage() for r in caplog.records) == 1


def test_explicit_actor_counts_share_the_gpus():
    plan = plan_pool(RayConfig(detect_actors=3), True, cpus=8, gpus=1)
    assert plan.concurrency == 3 and plan.concurrency * plan.num_gpus <= 1


def test_a_cpu_stage_planned_by_raypipe_survives_a_lost_worker(tmp_path, ray_session):
    """The arguments raypipe gives map_batches keep Ray's worker-loss handling (see
    resources.py): the killed worker's batch is redone, no row lost."""
    import ray.data

    marker = tmp_path / "died"

    def dies_on_first_batch(batch):
        if not marker.exists():  # the first worker to get a batch dies
            marker.touch()
            os._exit(1)
        return batch

    plan = plan_pool(RayConfig(), False, cpus=2, gpus=0)
    dataset = ray.data.from_items([{"id": i} for i in range(8)], override_num_blocks=4).map_batches(
        dies_on_first_batch, batch_format="numpy", **plan.map_batches_args()
    )
    assert sorted(row["id"] for row in dataset.take_all()) == list(range(8))
    assert marker.exists()


def test_gpu_need_is_decided_by_the_model_class_not_the_drivers_hardware():
    from raypipe.detect import DETECTORS
    from raypipe.pipeline.extract import wants_gpu

    mtcnn, hog = DETECTORS.resolve("mtcnn"), DETECTORS.resolve("dlib-hog")
    assert wants_gpu(mtcnn, {"name": "mtcnn"})  # even on this GPU-less machine
    assert not wants_gpu(mtcnn, {"name": "mtcnn", "device": "cpu"})
    assert not wants_gpu(hog, {"name": "dlib-hog"})
