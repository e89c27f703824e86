"""Actor pool plans: fractional GPUs that fit the devices, GPU batches, CPU fallback, worker-loss retries."""

from __future__ import annotations

import logging

import pytest

from raypipe.config import ExtractConfig, RayConfig
from raypipe.pipeline.resources import plan_stages


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
