"""Size the pools of stage workers from what each stage declares and what the cluster has, so
a 2-core laptop and a GPU cluster both work.

Fused (CPUs): one pool of Ray tasks, each running every stage of a shard, sharing what the
cluster has less a reserve for the driver and Ray itself (a pool that takes every CPU starves
them): one at a time per core but the reserve. Pools (GPUs): one pool per stage; a stage that
holds a model (:attr:`Stage.holds_model`) runs on actors, which keep it loaded, on a share of a
GPU when it wants one (``gpus_per_actor``, the GPUs split between such stages), the others on
Ray tasks with a CPU each. A model that wants a GPU in a cluster without one runs on CPU and says so.

Worker loss: a task whose process or node died is retried by Ray on any node left, so a lost
node's shards are redone elsewhere. Actor pools restart an actor and retry the batches it held,
without limit (``max_restarts=-1, max_task_retries=-1``, Ray Data's defaults; a CPU stage
surviving a killed worker is tested in tests/test_gpu_plan.py), which needs room for the actor
on the nodes left. A retried shard is written again whole, over its own files. What a dead
driver loses, extraction resumes from shards.
"""

from __future__ import annotations

import dataclasses
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
    actor: bool = False

    def map_batches_args(self) -> dict:
        """Keyword arguments of ``Dataset.map_batches`` for this pool: an actor pool for stages
        that keep a model loaded, tasks for the others."""
        from ray.data import ActorPoolStrategy, TaskPoolStrategy

        args = {"num_cpus": self.num_cpus, "batch_size": 1}  # one shard per call
        if self.actor:
            pool = ActorPoolStrategy(size=self.concurrency, max_tasks_in_flight_per_actor=TASKS_IN_FLIGHT)
            return {**args, "compute": pool, "num_gpus": self.num_gpus}
        return {**args, "compute": TaskPoolStrategy(size=self.concurrency)}

    def at_most(self, workers: int) -> StagePlan:
        """This plan with no more than ``workers`` workers (a pool larger than its work idles)."""
        return dataclasses.replace(self, concurrency=max(1, min(self.concurrency, workers)))


def cluster_totals() -> tuple[float, float]:
    import ray

    resources = ray.cluster_resources()
    return float(resources.get("CPU", 1.0)), float(resources.get("GPU", 0.0))


def plan_fused(ray_config: RayConfig, cpus: float) -> StagePlan:
    """One pool of tasks running every stage of a shard.

    >>> plan_fused(RayConfig(), cpus=2)
    StagePlan(concurrency=2, num_cpus=0.75, num_gpus=0.0, actor=False)
    """
    usable = max(cpus - RESERVED_CPUS, 0.5)
    count = ray_config.detect_actors or max(1, math.ceil(usable))
    return StagePlan(count, round(usable / count, 3), 0.0)


def plan_pools(stages: list, ray_config: RayConfig, cpus: float, gpus: float) -> list[StagePlan]:
    """One pool per stage, from what each declares.

    >>> from raypipe.config import Config
    >>> from raypipe.pipeline.stages import build_stages
    >>> config = Config.load(overrides=["extract.detector={name: rfb, model_root: /m}"])
    >>> [p.num_gpus for p in plan_pools(build_stages(config, {"name": "arcface-onnx"}), RayConfig(), 16, 1)]
    [0.0, 0.25, 0.0, 0.25]
    """
    on_gpu = [stage.gpu_capable and gpus > 0 for stage in stages]
    gpu_stages = max(1, sum(on_gpu))
    actors = ray_config.detect_actors or max(1, math.floor(gpus / gpu_stages / ray_config.gpus_per_actor + 1e-9))
    share = math.floor(1000 * gpus / gpu_stages / actors) / 1000 if gpus else 0.0  # rounded down: never more than there is
    usable = max(cpus - RESERVED_CPUS, 0.5)
    workers = actors * sum(on_gpu) + len(stages) - sum(on_gpu)  # every pool can start its workers
    per_worker = min(1.0, math.floor(1000 * usable / workers) / 1000)
    tasks = max(1, math.floor((usable - actors * sum(on_gpu) * per_worker) / per_worker))
    plans = [
        StagePlan(actors, per_worker, share, actor=True) if gpu
        else StagePlan(ray_config.detect_actors or 1, per_worker, 0.0, actor=True) if stage.holds_model
        else StagePlan(tasks, per_worker, 0.0)
        for stage, gpu in zip(stages, on_gpu)
    ]  # fmt: skip
    log.info("stage pools: %s (cluster: %g CPU, %g GPU)", dict(zip((s.name for s in stages), plans)), cpus, gpus)
    return plans
