"""Settings of ``raypipe aggregate``, apart from the VAE so that the CLI need not import torch."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class AggregateSettings:
    epochs: int = 40
    image_size: int = 64
    device: str = "auto"
    batch_size: int = 16
    learning_rate: float = 2e-3
    beta: float = 1.0
    #: Chips per cluster used for training, drawn at random (bounds time and memory on big runs).
    max_per_cluster: int = 300
    seed: int = 0
