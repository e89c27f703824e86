"""The CPU and GPU topologies of extraction, both built from one stage list.

Fused (CPUs): each Ray task takes a shard key and runs every stage on the shard in one process.
Pools (GPUs): one ``map_batches`` per stage, each on the pool its stage's declarations call for
(:func:`raypipe.pipeline.resources.plan_pools`): decoding and alignment on CPU tasks,
detection and embedding on actors holding their models, on GPUs where there are some. What
travels between pools is one shard's :class:`~raypipe.pipeline.work.ShardWork` (the decoded
pixels are let go after alignment). Either way the first stage of a chain reads the shard's list
file and the last writes the shard, marker last; the driver receives one row of counts per shard.
"""

from __future__ import annotations

import logging

import numpy as np

from raypipe.config import Config
from raypipe.errors import UsageError
from raypipe.layout import RunLayout
from raypipe.pipeline.contract import check_chain
from raypipe.pipeline.listing import read_list_file
from raypipe.pipeline.resources import plan_fused, plan_pools
from raypipe.pipeline.shards import finished_marker, write_shard
from raypipe.pipeline.stages import build_stages
from raypipe.pipeline.work import ShardWork

log = logging.getLogger(__name__)

COUNTS = ("shard", "node", "images", "faces", "no_face", "errors")
#: Columns a shard starts with (its list file).
START_COLUMNS = frozenset({"images.image_id", "images.image_path", "images.status"})


class ShardWorker:
    """Runs stages ``first`` to ``last`` (exclusive; ``None``: to the end) of the stage list over
    whole shards, their models set up once per worker. Input batch: ``shard`` keys (first
    stage) or ``work``; output: ``work``, or one row of counts per shard written (last stage)."""

    def __init__(self, config: dict, embedder_spec: dict, models: dict[str, str], run_root: str,
                 first: int = 0, last: int | None = None):  # fmt: skip
        self.config = Config.from_dict(config)
        stages = build_stages(self.config, embedder_spec)
        check_chain(stages, START_COLUMNS)
        self.stages = stages[first:last]
        self.starts, self.ends = first == 0, last is None or last >= len(stages)
        for stage in self.stages:
            stage.setup()
        self.models, self.layout = models, RunLayout.at(run_root)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        import ray

        node = ray.get_runtime_context().get_node_id()
        done = [self.run(item, node) for item in batch["shard" if self.starts else "work"]]
        if self.ends:
            return {name: np.array([marker[name] for marker in done]) for name in COUNTS}
        out = np.empty(len(done), dtype=object)
        out[:] = done
        return {"work": out}

    def run(self, item, node: str):
        """Item: a shard key (first stage) or its work so far; the work after these stages, or
        the marker of the shard written (last stage)."""
        if self.starts:
            if self.ends and (finished := finished_marker(self.layout, str(item))) is not None:
                return finished  # a re-run of a task whose output was lost with its node
            inputs = read_list_file(self.layout, str(item))
            item = ShardWork.start(str(item), inputs["image_path"].to_pylist(), inputs["image_id"].to_pylist())
        for stage in self.stages:
            item = stage(item)
        return write_shard(self.layout, item, self.models, self.config.extract.save_chips, node) if self.ends else item

    def extract_shard(self, key: str, node: str) -> dict:
        """Extract and write shard ``key`` (a worker running every stage); its marker."""
        return self.run(key, node)


#: The workers of this process, kept between the Ray tasks it runs: (arguments, worker).
_PROCESS_WORKERS: list = []


def run_in_process(batch: dict[str, np.ndarray], *worker_args) -> dict[str, np.ndarray]:
    """:class:`ShardWorker` as a Ray task: set up (models loaded) once per worker process."""
    for args, worker in _PROCESS_WORKERS:
        if args == worker_args:
            return worker(batch)
    worker = ShardWorker(*worker_args)
    _PROCESS_WORKERS.append((worker_args, worker))
    return worker(batch)


def in_pools(stages: list, topology: str, gpus: float) -> bool:
    """Whether the stages run in separate pools (``ray.topology``; ``auto``: when a stage wants
    a GPU and the cluster has one)."""
    if topology not in ("auto", "fused", "pools"):
        raise UsageError(f"ray.topology must be auto, fused or pools, not {topology!r}")
    wanted = [stage.name for stage in stages if stage.gpu_capable]
    if wanted and not gpus:
        log.info("%s can use a GPU but the cluster has none: running on CPU", " and ".join(wanted))
    return topology == "pools" or (topology == "auto" and bool(wanted) and gpus > 0)


def build_topology(keys, config: Config, worker_args: tuple, cpus: float, gpus: float, shards: int):
    """The dataset of shard counts: ``keys`` (``shards`` of them) through the fused or the
    pooled topology; no pool has more workers than there are shards."""
    stages = build_stages(config, worker_args[1])
    if not in_pools(stages, config.ray.topology, gpus):
        plan = plan_fused(config.ray, cpus).at_most(shards)
        log.info("fused shard workers: %s (cluster: %g CPU, %g GPU)", plan, cpus, gpus)
        return keys.map_batches(run_in_process, fn_args=worker_args, batch_format="numpy", **plan.map_batches_args())
    for index, plan in enumerate(plan_pools(stages, config.ray, cpus, gpus)):
        args = (*worker_args, index, index + 1)
        plan = plan.at_most(shards)
        if plan.actor:
            keys = keys.map_batches(ShardWorker, fn_constructor_args=args, batch_format="numpy", **plan.map_batches_args())
        else:
            keys = keys.map_batches(run_in_process, fn_args=args, batch_format="numpy", **plan.map_batches_args())
    return keys
