"""Embeddings of the aligned chips, a large batch at a time."""

from __future__ import annotations

import numpy as np

from raypipe.config import Config
from raypipe.embed import EMBEDDERS
from raypipe.pipeline.contract import ModelStage
from raypipe.pipeline.work import ShardWork


class EmbedStage(ModelStage):
    """Gives ``faces.embedding`` (an (N, dim) array) and drops the chips: batches of
    ``extract.embed_batch_size`` chips, or ``ray.gpu_embed_batch_size`` on a GPU."""

    name = "embed"
    registry = EMBEDDERS
    needs = frozenset({"faces.chip"})
    gives = frozenset({"faces.embedding"})

    def __init__(self, config: Config, embedder_spec: dict):
        self.spec = embedder_spec
        self.batch_sizes = (config.extract.embed_batch_size, config.ray.gpu_embed_batch_size)

    def process(self, work: ShardWork) -> None:
        chips = work.faces.pop("chip")
        step = self.batch_sizes[self.model.uses_gpu]
        parts = [self.model.embed(np.stack(chips[first : first + step])) for first in range(0, len(chips), step)]
        work.faces["embedding"] = np.concatenate(parts) if parts else np.zeros((0, self.model.dim), np.float32)
