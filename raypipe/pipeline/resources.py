"""Size actor pools from the cluster's resources, so a 2-core laptop and a GPU cluster both work.

On CPUs the pools share what the cluster has less a reserve for Ray Data's own read tasks and
the driver (a pool that takes every CPU starves them and the pipeline stalls): two thirds to
detection (the heavier stage), one third to embedding, as fractional CPUs per actor.

A stage whose model runs on a GPU gets fractional GPUs (``gpus_per_actor``, several light
models share one device); when both stages use GPUs they split the cluster's GPUs by the same
two-thirds rule, so their actors never wait on each other for a device. An embedding stage on a
GPU takes ``gpu_embed_batch_size`` chips per batch. A stage that wants a GPU in a cluster
without one runs on CPU and says so.

Worker loss is Ray Data's to absorb: its actor pools restart an actor whose process or node
died and retry the batches it held, without limit (``max_restarts=-1, max_task_retries=-1``,
its defaults, checked in tests/test_gpu_plan.py; passing them again is deprecated). What a dead
driver loses, extraction resumes from shards.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

from raypipe.config import ExtractConfig, RayConfig

log = logging.getLogger(__name__)

#: CPUs kept free for read tasks, the driver and Ray itself.
RESERVED_CPUS = 0.5
DETECT_SHARE = 2 / 3
#: Batches queued per actor: enough to hide the hand-off, few enough that no actor is left with
#: a backlog of heavy images while the others idle at the end of a run.
TASKS_IN_FLIGHT = 2


@dataclass(frozen=True)
class StagePlan:
    concurrency: int
    num_cpus: float
    num_gpus: float
    batch_size: int

    def map_batches_args(self) -> dict:
        """Keyword arguments of ``Dataset.map_batches`` for this stage."""
        from ray.data import ActorPoolStrategy

        pool = ActorPoolStrategy(size=self.concurrency, max_tasks_in_flight_per_actor=TASKS_IN_FLIGHT)
        args = {"compute": pool, "num_cpus": self.num_cpus, "batch_size": self.batch_size}
        if self.num_gpus:
            args["num_gpus"] = self.num_gpus
        return args


def cluster_totals() -> tuple[float, float]:
    import ray

    resources = ray.cluster_resources()
    return float(resources.get("CPU", 1.0)), float(resources.get("GPU", 0.0))


def plan_stages(
    ray_config: RayConfig, extract: ExtractConfig, detect_gpu: bool, embed_gpu: bool, cpus: float, gpus: float
) -> tuple[StagePlan, StagePlan]:
    """Plans for the detection and embedding pools.

    >>> d, e = plan_stages(RayConfig(), ExtractConfig(), False, False, cpus=2, gpus=0)
    >>> (d.concurrency, d.num_cpus, e.concurrency, e.num_cpus, e.batch_size)
    (2, 0.5, 1, 0.5, 32)
    >>> d, e = plan_stages(RayConfig(), ExtractConfig(), True, True, cpus=16, gpus=1)
    >>> (d.concurrency, d.num_gpus, e.concurrency, e.num_gpus, e.batch_size)
    (2, 0.333, 1, 0.333, 256)
    """
    usable = max(cpus - RESERVED_CPUS, 0.5)
    both_on_gpu = detect_gpu and embed_gpu
    detect = _plan(
        "detect", ray_config, ray_config.detect_actors, detect_gpu, gpus * (DETECT_SHARE if both_on_gpu else 1),
        cpus * DETECT_SHARE, usable * DETECT_SHARE, extract.detect_batch_size, extract.detect_batch_size,
    )  # fmt: skip
    embed = _plan(
        "embed", ray_config, ray_config.embed_actors, embed_gpu, gpus * ((1 - DETECT_SHARE) if both_on_gpu else 1),
        cpus * (1 - DETECT_SHARE), usable * (1 - DETECT_SHARE), extract.embed_batch_size,
        max(extract.embed_batch_size, ray_config.gpu_embed_batch_size),
    )  # fmt: skip
    log.info("actor pools: detect %s, embed %s (cluster: %g CPU, %g GPU)", detect, embed, cpus, gpus)
    return detect, embed


def plan_fused(ray_config: RayConfig, extract: ExtractConfig, cpus: float) -> StagePlan:
    """One pool doing detection and embedding, on CPUs only: an actor per core but the reserve.

    >>> plan_fused(RayConfig(), ExtractConfig(), cpus=2)
    StagePlan(concurrency=2, num_cpus=0.75, num_gpus=0.0, batch_size=4)
    """
    usable = max(cpus - RESERVED_CPUS, 0.5)
    count = ray_config.detect_actors or max(1, math.ceil(usable))
    plan = StagePlan(count, round(usable / count, 3), 0.0, extract.detect_batch_size)
    log.info("actor pool: detect+embed %s (cluster: %g CPU, no GPU used)", plan, cpus)
    return plan


def _plan(
    stage: str, ray_config: RayConfig, actors: int | None, wants_gpu: bool, gpu_budget: float,
    cores: float, cpu_budget: float, cpu_batch: int, gpu_batch: int,
) -> StagePlan:  # fmt: skip
    if wants_gpu and gpu_budget > 0:
        count = actors or max(1, math.floor(gpu_budget / ray_config.gpus_per_actor + 1e-9))
        share = math.floor(1000 * gpu_budget / count) / 1000  # rounded down: never more than there is
        return StagePlan(count, round(min(1.0, cpu_budget / count), 3), share, gpu_batch)
    if wants_gpu:
        log.info("%s: the model can use a GPU but the cluster has none: running on CPU", stage)
    count = actors or max(1, math.ceil(cores))
    return StagePlan(count, round(cpu_budget / count, 3), 0.0, cpu_batch)
