"""Stage pool plans: fractional GPUs that fit the devices, CPU fallback, worker-loss retries."""

from __future__ import annotations

import logging
import os

import pytest

from raypipe.config import Config, RayConfig
from raypipe.pipeline.resources import RESERVED_CPUS, plan_fused, plan_pools
from raypipe.pipeline.stages import build_stages
from raypipe.pipeline.topology import in_pools


def gpu_stages(detector: str = "{name: rfb, model_root: /models}"):
    """The stage list of RFB + ArcFace (built without loading a model)."""
    config = Config.load(overrides=[f"extract.detector={detector}"])
    return build_stages(config, {"name": "arcface-onnx", "model_path": "/models/fr_feature.onnx"})


@pytest.mark.parametrize("gpus", [1, 2, 8])
def test_stage_pools_never_ask_for_more_gpus_than_exist_and_only_gpu_stages_get_them(gpus):
    stages = gpu_stages()
    plans = plan_pools(stages, RayConfig(), cpus=16, gpus=gpus)
    on_gpu = {stage.name for stage, plan in zip(stages, plans) if plan.num_gpus}
    used = sum(plan.concurrency * plan.num_gpus for plan in plans)
    assert on_gpu == {"detect", "embed"}
    assert gpus * 0.75 <= used <= gpus + 1e-9, "GPUs over-asked or left idle"
    assert all(plan.map_batches_args()["num_gpus"] == plan.num_gpus for plan in plans if plan.num_gpus)
    assert sum(plan.concurrency * plan.num_cpus for plan in plans if plan.actor) <= 16


def test_gpu_model_without_gpus_runs_fused_on_cpu_with_a_log_line(caplog):
    with caplog.at_level(logging.INFO, logger="raypipe.pipeline.topology"):
        assert not in_pools(gpu_stages(), "auto", gpus=0)
    assert sum("cluster has none: running on CPU" in r.getMessage() for r in caplog.records) == 1
    assert in_pools(gpu_stages(), "auto", gpus=1) and not in_pools(gpu_stages(), "fused", gpus=1)
    assert not in_pools(gpu_stages("{name: rfb, model_root: /m, device: cpu}")[:2], "auto", gpus=1)


def test_explicit_actor_counts_share_the_gpus():
    plans = plan_pools(gpu_stages(), RayConfig(detect_actors=3), cpus=8, gpus=1)
    assert [p.concurrency for p in plans if p.num_gpus] == [3, 3]
    assert sum(p.concurrency * p.num_gpus for p in plans) <= 1


def test_every_pool_fits_at_once_on_two_cpus():
    plans = plan_pools(gpu_stages(), RayConfig(), cpus=2, gpus=0)
    assert not any(p.num_gpus for p in plans) and [p.actor for p in plans] == [False, True, False, True]
    assert sum(p.num_cpus for p in plans) <= 2 - RESERVED_CPUS


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

    plan = plan_fused(RayConfig(), cpus=2)
    dataset = ray.data.from_items([{"id": i} for i in range(8)], override_num_blocks=4).map_batches(
        dies_on_first_batch, batch_format="numpy", **plan.map_batches_args()
    )
    assert sorted(row["id"] for row in dataset.take_all()) == list(range(8))
    assert marker.exists()


def test_gpu_need_is_decided_by_the_model_class_not_the_drivers_hardware():
    from raypipe.detect import DETECTORS
    from raypipe.pipeline.contract import wants_gpu

    mtcnn, hog = DETECTORS.resolve("mtcnn"), DETECTORS.resolve("dlib-hog")
    assert wants_gpu(mtcnn, {"name": "mtcnn"})  # even on this GPU-less machine
    assert not wants_gpu(mtcnn, {"name": "mtcnn", "device": "cpu"})
    assert not wants_gpu(hog, {"name": "dlib-hog"})
