"""A torch MLP autoencoder: the bottleneck is the reduced feature."""

from __future__ import annotations

import logging
import time

import numpy as np

from raypipe.reduce.base import Reducer

log = logging.getLogger(__name__)


class AutoencoderReducer(Reducer):
    """Standardised input -> ``hidden`` -> ``n_components`` -> ``hidden`` -> input, MSE loss.

    Trains for ``epochs`` or ``max_seconds`` (whichever ends first), on the GPU when present.
    """

    def __init__(
        self,
        n_components: int = 32,
        hidden: int = 256,
        epochs: int = 100,
        max_seconds: float = 60.0,
        batch_size: int = 128,
        learning_rate: float = 1e-3,
        normalize: bool = True,
        device: str = "auto",
        seed: int = 0,
    ):
        self.n_components = n_components
        self.hidden = hidden
        self.epochs = epochs
        self.max_seconds = max_seconds
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.normalize = normalize
        self.device = device
        self.seed = seed

    def _fit(self, X: np.ndarray) -> None:
        import torch
        from torch import nn

        from raypipe.learn.backbone import pick_device

        torch.manual_seed(self.seed)
        device = pick_device(self.device)
        self.mean_, self.scale_ = X.mean(axis=0), X.std(axis=0) + 1e-6
        data = torch.from_numpy((X - self.mean_) / self.scale_).to(device)
        d = X.shape[1]
        self.encoder_ = nn.Sequential(
            nn.Linear(d, self.hidden), nn.ReLU(), nn.Linear(self.hidden, self.n_components)
        )
        decoder = nn.Sequential(
            nn.Linear(self.n_components, self.hidden), nn.ReLU(), nn.Linear(self.hidden, d)
        )
        model = nn.Sequential(self.encoder_, decoder).to(device)
        optimiser = torch.optim.Adam(model.parameters(), lr=self.learning_rate)
        generator = torch.Generator().manual_seed(self.seed)
        start = time.monotonic()
        for epoch in range(1, self.epochs + 1):
            total = 0.0
            for batch in torch.randperm(len(data), generator=generator).split(self.batch_size):
                x = data[batch.to(device)]
                loss = nn.functional.mse_loss(model(x), x)
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
                total += loss.item() * len(batch)
            if epoch % 10 == 0 or epoch == self.epochs:
                log.info("autoencoder epoch %d/%d loss %.4f", epoch, self.epochs, total / len(data))
            if time.monotonic() - start > self.max_seconds:
                log.info(
                    "autoencoder stopped at the %.0f s time limit (epoch %d)",
                    self.max_seconds,
                    epoch,
                )
                break
        self.encoder_.eval()

    def _transform(self, X: np.ndarray) -> np.ndarray:
        import torch

        device = next(self.encoder_.parameters()).device
        with torch.no_grad():
            x = torch.from_numpy((X - self.mean_) / self.scale_).float().to(device)
            return self.encoder_(x).cpu().numpy()
