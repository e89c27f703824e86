"""The contract every extraction stage keeps, and the checks that hold stages to it.

A stage is built on the driver from the config (cheap: no model loaded), declares what it
needs (:attr:`Stage.gpu_capable`, from its model's class and spec) and the ``table.column``
names it reads (:attr:`Stage.needs`) and adds (:attr:`Stage.gives`); :meth:`Stage.setup` loads
its models once per worker process or actor; :meth:`Stage.process` turns a
:class:`~raypipe.pipeline.work.ShardWork` into the next one. The topologies
(:mod:`raypipe.pipeline.topology`) are built from a list of stages and nothing else.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod

from raypipe.pipeline.work import ShardWork
from raypipe.registry import split_spec

#: What the shard writer reads: the stage list must give all of it.
WRITTEN = frozenset(
    {"images.width", "images.height", "faces.box", "faces.det_score", "faces.landmarks", "faces.face_px",
     "faces.sharpness", "faces.yaw", "faces.chip_jpeg", "faces.embedding", "faces.face_index", "faces.panel_index"}
)  # fmt: skip


class StageContractError(RuntimeError):
    """A stage list that cannot work, or a stage that did not give what it declared."""


class Stage(ABC):
    name: str = ""
    #: ``table.column`` names the stage reads and adds (see :class:`ShardWork`).
    needs: frozenset[str] = frozenset()
    gives: frozenset[str] = frozenset()
    #: Key of :attr:`ShardWork.timings` its seconds count in (``<name>_s``).
    timing: str = ""
    #: Keeps a model loaded: in separate pools it runs on actors (see :mod:`raypipe.pipeline.resources`).
    holds_model: bool = False

    @property
    def gpu_capable(self) -> bool:
        """Whether the stage's model wants a GPU (decided from its class and spec, not this machine)."""
        return False

    def setup(self) -> None:
        """Load models: called once per worker process or actor, before the first shard."""

    @abstractmethod
    def process(self, work: ShardWork) -> None:
        """Add this stage's columns to ``work`` (images that fail are marked so, never raised)."""

    def __call__(self, work: ShardWork) -> ShardWork:
        """:meth:`process`, timed, then checked against :attr:`gives`."""
        start = time.perf_counter()
        self.process(work)
        work.timings[self.timing or f"{self.name}_s"] += time.perf_counter() - start
        missing = self.gives - work.columns()
        if missing:
            raise StageContractError(f"stage {self.name} did not give {sorted(missing)}")
        return work


class ModelStage(Stage):
    """A stage running one model of ``registry`` built from ``spec``: it keeps the model loaded
    and wants a GPU when the model's class can use one (:func:`wants_gpu`)."""

    holds_model = True
    registry = None
    spec: dict | None = None
    model = None

    @property
    def gpu_capable(self) -> bool:
        return wants_gpu(self.registry.resolve(split_spec(self.spec)[0]), self.spec)

    def setup(self) -> None:
        self.model = self.registry.build(self.spec)


def wants_gpu(component, spec: dict) -> bool:
    """Whether a model (its class or an instance) should ask for GPUs: it can run on one and is
    not pinned to the CPU. Decided from the class, not from the driver's hardware: the driver
    may sit on a CPU-only head node of a GPU cluster."""
    device = str(split_spec(spec)[1].get("device", "auto"))
    return component.gpu_capable and device != "cpu"


def check_chain(stages: list[Stage], first: frozenset[str]) -> None:
    """Refuse a stage list where a stage reads a column no earlier stage gives, or that leaves
    the writer without one; ``first`` are the columns a shard starts with."""
    have = set(first)
    for stage in stages:
        if stage.needs - have:
            raise StageContractError(f"stage {stage.name} needs {sorted(stage.needs - have)}, which no stage before it gives")
        have |= stage.gives
    if WRITTEN - have:
        raise StageContractError(f"no stage gives {sorted(WRITTEN - have)}, which the shard writer needs")
