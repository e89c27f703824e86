"""Size actor pools from the cluster's resources, so a 2-core laptop and a GPU cluster both work.

On CPUs the pools share what the cluster has less a reserve for Ray Data's own read tasks and
the driver (a pool that takes every CPU starves them and the pipeline stalls): two thirds to
detection (the heavier stage), one third to embedding, as fractional CPUs per actor. On GPUs a
stage whose model runs there gets ``gpus_per_actor`` GPUs and one actor per share.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

from raypipe.config import RayConfig

log = logging.getLogger(__name__)

#: CPUs kept free for read tasks, the driver and Ray itself.
RESERVED_CPUS = 0.5
DETECT_SHARE = 2 / 3


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

    >>> d, e = plan_stages(RayConfig(), False, False, cpus=2, gpus=0)
    >>> (d.concurrency, d.num_cpus, e.concurrency, e.num_cpus)
    (2, 0.5, 1, 0.5)
    """
    usable = max(cpus - RESERVED_CPUS, 0.5)
    share = ray_config.gpus_per_actor
    detect = _plan(ray_config.detect_actors, detect_gpu, gpus, share, cpus * DETECT_SHARE, usable * DETECT_SHARE)
    embed = _plan(ray_config.embed_actors, embed_gpu, gpus, share, cpus * (1 - DETECT_SHARE), usable * (1 - DETECT_SHARE))
    log.info("actor pools: detect %s, embed %s (cluster: %g CPU, %g GPU)", detect, embed, cpus, gpus)
    return detect, embed


def _plan(actors: int | None, wants_gpu: bool, gpus: float, gpu_share: float, cores: float, cpu_budget: float) -> StagePlan:
    if wants_gpu and gpus > 0:
        count = actors or max(1, math.floor(gpus / gpu_share))
        return StagePlan(count, min(1.0, cpu_budget / count), gpu_share)
    if wants_gpu:
        log.info("no GPU in the cluster: running the stage on CPU")
    count = actors or max(1, math.ceil(cores))
    return StagePlan(count, round(cpu_budget / count, 3), 0.0)
