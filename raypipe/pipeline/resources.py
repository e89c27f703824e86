"""Size the pool of shard actors from the cluster's resources, so a 2-core laptop and a GPU
cluster both work.

Each worker decodes, detects, aligns, embeds and writes whole shards (see
:mod:`raypipe.pipeline.stages`). On CPUs the workers are Ray tasks sharing what the cluster has
less a reserve for the driver and Ray itself (a pool that takes every CPU starves them): one
at a time per core but the reserve. When the models can use a GPU, the workers are actors (the
models stay loaded on the device; GPU tasks would reload them for every shard), several
sharing each device (``gpus_per_actor``), each decoding on its share of the CPUs; a model that
wants a GPU in a cluster without one runs on CPU and says so.

Worker loss: a task whose process or node died is retried by Ray on any node left, so a lost
node's shards are redone elsewhere. Actor pools restart an actor and retry the batches it held,
without limit (``max_restarts=-1, max_task_retries=-1``, Ray Data's defaults; a CPU stage
surviving a killed worker is tested in tests/test_gpu_plan.py), which needs room for the actor on the nodes left. A retried shard is
written again whole, over its own files. What a dead driver loses, extraction resumes from
shards.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

from raypipe.config import RayConfig

log = logging.getLogger(__name__)

#: CPUs kept free for read tasks, the driver and Ray itself.
RESERVED_CPUS = 0.5
#: Shards queued per actor: enough to hide the hand-off, few enough that no actor is left with
#: a backlog of heavy shards while the others idle at the end of a run.
TASKS_IN_FLIGHT = 2


@dataclass(frozen=True)
class StagePlan:
    concurrency: int
    num_cpus: float
    num_gpus: float

    def map_batches_args(self) -> dict:
        """Keyword arguments of ``Dataset.map_batches`` for this pool: an actor pool on GPUs,
        tasks on CPUs."""
        args = {"num_cpus": self.num_cpus, "batch_size": 1}  # one shard per call
        if self.num_gpus:
            from ray.data import ActorPoolStrategy

            pool = ActorPoolStrategy(size=self.concurrency, max_tasks_in_flight_per_actor=TASKS_IN_FLIGHT)
            return {**args, "compute": pool, "num_gpus": self.num_gpus}
        return {**args, "concurrency": self.concurrency}


def cluster_totals() -> tuple[float, float]:
    import ray

    resources = ray.cluster_resources()
    return float(resources.get("CPU", 1.0)), float(resources.get("GPU", 0.0))


def plan_pool(ray_config: RayConfig, wants_gpu: bool, cpus: float, gpus: float) -> StagePlan:
    """The shard workers' pool: on GPUs when the models want one and the cluster has some.

    >>> plan_pool(RayConfig(), False, cpus=2, gpus=0)
    StagePlan(concurrency=2, num_cpus=0.75, num_gpus=0.0)
    >>> plan_pool(RayConfig(), True, cpus=16, gpus=1)
    StagePlan(concurrency=4, num_cpus=3.875, num_gpus=0.25)
    """
    usable = max(cpus - RESERVED_CPUS, 0.5)
    if wants_gpu and gpus > 0:
        count = ray_config.detect_actors or max(1, math.floor(gpus / ray_config.gpus_per_actor + 1e-9))
        share = math.floor(1000 * gpus / count) / 1000  # rounded down: never more than there is
        plan = StagePlan(count, round(usable / count, 3), share)
    else:
        if wants_gpu:
            log.info("the models can use a GPU but the cluster has none: running on CPU")
        count = ray_config.detect_actors or max(1, math.ceil(usable))
        plan = StagePlan(count, round(usable / count, 3), 0.0)
    log.info("shard workers: %s (cluster: %g CPU, %g GPU)", plan, cpus, gpus)
    return plan
