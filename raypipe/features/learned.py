"""Features from a small CNN trained on the run's own chips: SimCLR, then optionally metric learning."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd

from raypipe.embed.base import l2_normalize
from raypipe.features.base import FeatureExtractor

log = logging.getLogger(__name__)


class SimCLRFeature(FeatureExtractor):
    """Self-supervised encoder: ``fit(chips)`` trains it with SimCLR, ``transform`` embeds.

    ``epochs`` and ``max_seconds`` bound the training (CPU works; a GPU is used when present).
    Weights given by :meth:`set_state` before ``fit`` (an earlier fit, the shipped drawn-face
    encoder) are the starting point; otherwise training starts from random weights.
    After ``fit``, ``losses_`` holds the mean training loss of each epoch.
    """

    learns = True

    def __init__(
        self,
        *,
        size: int = 64,
        width: int = 32,
        epochs: int = 50,
        max_seconds: float = 180.0,
        batch_size: int = 256,
        learning_rate: float = 1e-3,
        temperature: float = 0.5,
        device: str = "auto",
        seed: int = 0,
    ):
        self.size = size
        self.width = width
        self.epochs = epochs
        self.max_seconds = max_seconds
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.temperature = temperature
        self.device = device
        self.seed = seed

    def _limits(self):
        from raypipe.features.learn.train import TrainLimits

        return TrainLimits(
            self.epochs, self.max_seconds, self.batch_size, self.learning_rate, seed=self.seed
        )

    def _new_encoder(self):
        import torch

        from raypipe.features.learn.backbone import SmallCNN

        torch.manual_seed(self.seed)
        return SmallCNN(self.width)

    def fit(self, chips: Sequence[np.ndarray], y=None) -> SimCLRFeature:
        from raypipe.devices import torch_device
        from raypipe.features.learn.backbone import chips_to_tensor
        from raypipe.features.learn.train import train_simclr

        device = torch_device(self.device)
        log.info("training SimCLR on %d chips (%s)", len(chips), device)
        images = chips_to_tensor(chips, self.size)
        self.encoder_ = self.encoder_ if hasattr(self, "encoder_") else self._new_encoder()
        self.losses_ = train_simclr(
            self.encoder_, images, device, self._limits(), temperature=self.temperature
        )
        return self

    def transform(self, chips: Sequence[np.ndarray]) -> np.ndarray:
        from raypipe.devices import torch_device
        from raypipe.features.learn.backbone import chips_to_tensor, encode

        device = torch_device(self.device)
        self.encoder_.to(device)
        return l2_normalize(encode(self.encoder_, chips_to_tensor(chips, self.size), device))

    def get_state(self) -> dict[str, np.ndarray]:
        from raypipe.features.learn.backbone import state_to_arrays

        return state_to_arrays(self.encoder_)

    def set_state(self, state: dict[str, np.ndarray]) -> SimCLRFeature:
        from raypipe.features.learn.backbone import load_arrays

        self.encoder_ = load_arrays(self._new_encoder(), state).eval()
        return self


class MetricFeature(SimCLRFeature):
    """The SimCLR encoder fine-tuned with batch-hard triplets on the labelled chips.

    ``fit(chips, y)`` uses the chips whose label is not empty; with ``simclr_epochs > 0`` it
    first trains SimCLR on all chips (the "adaptation" of the manga face paper), unless
    :meth:`set_state` already gave it starting weights.
    """

    def __init__(
        self,
        *,
        size: int = 64,
        width: int = 32,
        epochs: int = 30,
        max_seconds: float = 180.0,
        batch_size: int = 256,
        learning_rate: float = 1e-3,
        temperature: float = 0.5,
        device: str = "auto",
        seed: int = 0,
        simclr_epochs: int = 0,
        margin: float = 0.2,
    ):
        super().__init__(
            size=size, width=width, epochs=epochs, max_seconds=max_seconds, batch_size=batch_size,
            learning_rate=learning_rate, temperature=temperature, device=device, seed=seed,
        )
        self.simclr_epochs = simclr_epochs
        self.margin = margin

    def fit(self, chips: Sequence[np.ndarray], y=None) -> MetricFeature:
        from raypipe.devices import torch_device
        from raypipe.features.learn.backbone import chips_to_tensor
        from raypipe.features.learn.train import train_metric, train_simclr

        if y is None:
            raise ValueError("metric learning needs labels: fit(chips, y)")
        device = torch_device(self.device)
        images = chips_to_tensor(chips, self.size)
        if not hasattr(self, "encoder_"):
            self.encoder_ = self._new_encoder()
            if self.simclr_epochs > 0:
                limits = self._limits()
                limits.epochs = self.simclr_epochs
                train_simclr(self.encoder_, images, device, limits, temperature=self.temperature)
        labels = np.asarray(y, dtype=object)
        known = np.array([not pd.isna(label) and str(label) != "" for label in labels])
        log.info(
            "metric learning on %d labelled of %d chips (%s)", known.sum(), len(labels), device
        )
        self.losses_ = train_metric(
            self.encoder_,
            images[known],
            labels[known].astype(str),
            device,
            self._limits(),
            self.margin,
        )
        return self
