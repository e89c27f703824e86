"""Size actor pools from the cluster's resources, so a 2-core laptop and a GPU cluster both work.

On CPUs the pools share what the cluster has, leaving room for Ray Data's own read tasks (a
pool that takes every CPU starves them and the pipeline stalls). On GPUs a stage whose model
runs there gets fractional GPUs and one actor per share.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

from raypipe.config import RayConfig

log = logging.getLogger(__name__)

#: CPUs kept free for read tasks, the driver and Ray itself on small machines.
RESERVED_CPUS = 0.5


@dataclass(frozen=True)
class StagePlan:
    concurrency: int
    num_cpus: float
    num_gpus: float

    def map_batches_args(self) -> dict:
        args = {"concurrency": self.concurrency, "num_cpus": self.num_cpus}
        if self.num_gpus:
            args["num_gpus"] = self.num_gpus
        return args


def cluster_totals() -> tuple[float, float]:
    import ray

    resources = ray.cluster_resources()
    return float(resources.get("CPU", 1.0)), float(resources.get("GPU", 0.0))


def plan_stages(
    ray_config: RayConfig, detect_gpu: bool, embed_gpu: bool, cpus: float, gpus: float
) -> tuple[StagePlan, StagePlan]:
    """Plans for the detection and embedding pools.

    CPU work is split so that both pools together use the CPUs less the reserve, the detection
    pool (the heavier stage) getting two thirds of them.
    """
    usable = max(cpus - RESERVED_CPUS, 0.5)
    detect = _plan(ray_config.detect_cpus, detect_gpu, gpus, ray_config.gpus_per_actor, usable * 2 / 3)
    embed = _plan(ray_config.embed_cpus, embed_gpu, gpus, ray_config.gpus_per_actor, usable / 3)
    log.info("actor pools: detect %s, embed %s (cluster: %g CPU, %g GPU)", detect, embed, cpus, gpus)
    return detect, embed


def _plan(cpus_per_actor: float, wants_gpu: bool, gpus: float, gpu_share: float, cpu_budget: float) -> StagePlan:
    if wants_gpu and gpus > 0:
        return StagePlan(max(1, math.floor(gpus / gpu_share)), min(cpus_per_actor, 1.0), gpu_share)
    if wants_gpu:
        log.info("no GPU in the cluster: running the stage on CPU")
    actors = max(1, math.ceil(cpu_budget / cpus_per_actor))
    return StagePlan(actors, min(cpus_per_actor, cpu_budget / actors), 0.0)
