"""The extraction stages, in order: decode; comic page split; detect; landmarks + align +
quality; embed. Each keeps the contract of :mod:`raypipe.pipeline.contract`."""

from __future__ import annotations

from raypipe.config import Config
from raypipe.pipeline.contract import Stage
from raypipe.pipeline.stages.align import AlignStage
from raypipe.pipeline.stages.comic import PageSplitStage
from raypipe.pipeline.stages.decode import DecodeStage
from raypipe.pipeline.stages.detect import DetectStage
from raypipe.pipeline.stages.embed import EmbedStage
from raypipe.registry import split_spec


def splits_pages(config: Config) -> bool:
    """Whether the extraction splits comic pages into panels: every comic run but one over a
    folder of pre-cropped drawn faces (the whole-image detector), which has no pages to split."""
    return config.extract.domain == "comic" and split_spec(config.extract.detector)[0] != "whole-image"


def build_stages(config: Config, embedder_spec: dict) -> list[Stage]:
    """The stage list of an extraction (no model loaded: see :meth:`Stage.setup`)."""
    split = splits_pages(config)
    return [
        DecodeStage(config),
        *([PageSplitStage(config)] if split else []),
        DetectStage(config, panels=split),
        AlignStage(config, embedder_spec),
        EmbedStage(config, embedder_spec),
    ]
