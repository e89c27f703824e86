"""Shard actor pool plans: fractional GPUs that fit the devices, CPU fallback, worker-loss retries."""

from __future__ import annotations

import logging

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


def test_ray_data_restarts_lost_actors_and_retries_their_batches():
    """The plans rely on these Ray Data defaults for worker loss (see resources.py)."""
    from ray.data import DataContext
    from ray.data._internal.execution.operators.actor_pool_map_operator import ActorPoolMapOperator

    args = ActorPoolMapOperator._apply_default_remote_args({}, DataContext.get_current())
    assert args["max_restarts"] == -1 and args["max_task_retries"] == -1


def test_gpu_need_is_decided_by_the_model_class_not_the_drivers_hardware():
    from raypipe.detect import DETECTORS
    from raypipe.pipeline.extract import wants_gpu

    mtcnn, hog = DETECTORS.resolve("mtcnn"), DETECTORS.resolve("dlib-hog")
    assert wants_gpu(mtcnn, {"name": "mtcnn"})  # even on this GPU-less machine
    assert not wants_gpu(mtcnn, {"name": "mtcnn", "device": "cpu"})
    assert not wants_gpu(hog, {"name": "dlib-hog"})
