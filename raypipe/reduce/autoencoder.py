"""A torch MLP autoencoder: the bottleneck is the reduced feature."""

from __future__ import annotations

import numpy as np

from raypipe.reduce.base import Reducer


class AutoencoderReducer(Reducer):
    """Standardised input -> ``hidden`` -> ``n_components`` -> ``hidden`` -> input, MSE loss.

    Trains for ``epochs`` or ``max_seconds`` (whichever ends first) on ``device``
    (:func:`raypipe.devices.torch_device`); ``losses_`` is the loss of each epoch.
    """

    def __init__(
        self,
        *,
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

        from raypipe.devices import torch_device
        from raypipe.training import train_epochs

        torch.manual_seed(self.seed)
        device = torch_device(self.device)
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

        def step(batch: torch.Tensor) -> torch.Tensor:
            x = data[batch.to(device)]
            return nn.functional.mse_loss(model(x), x)

        self.losses_ = train_epochs(
            step, len(data), optimiser, epochs=self.epochs, batch_size=self.batch_size,
            max_seconds=self.max_seconds, generator=torch.Generator().manual_seed(self.seed),
            name="autoencoder",
        )  # fmt: skip
        self.encoder_.eval()

    def _transform(self, X: np.ndarray) -> np.ndarray:
        import torch

        device = next(self.encoder_.parameters()).device
        with torch.no_grad():
            x = torch.from_numpy((X - self.mean_) / self.scale_).float().to(device)
            return self.encoder_(x).cpu().numpy()
