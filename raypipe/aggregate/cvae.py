"""A small convolutional conditional VAE: faces encoded and decoded given their cluster.

Decoding the prior's mean (z = 0) for a cluster gives that cluster's generative "aggregate face".
"""

from __future__ import annotations

from itertools import pairwise

import torch
from torch import nn
from torch.nn import functional as F

#: Stride-2 convolutions in the encoder (and transposed ones in the decoder).
DOWNSAMPLINGS = 4


def check_image_size(image_size: int) -> None:
    step = 2**DOWNSAMPLINGS
    if image_size < step or image_size % step:
        raise ValueError(f"image size must be a positive multiple of {step}, got {image_size}")


class ConditionalVAE(nn.Module):
    """q(z | x, cluster) and p(x | z, cluster) on ``image_size`` RGB images in [0, 1].

    Parameters
    ----------
    n_clusters : number of conditions (cluster indices 0 .. n_clusters - 1).
    image_size : side of the square images, a multiple of 16.
    latent_dim : size of z.
    condition_dim : size of the learned cluster embedding.
    width : channels of the first convolution (doubled at each downsampling).
    """

    def __init__(
        self,
        n_clusters: int,
        image_size: int = 64,
        latent_dim: int = 32,
        condition_dim: int = 16,
        width: int = 32,
    ):
        super().__init__()
        check_image_size(image_size)
        self.latent_dim = latent_dim
        channels = [3] + [width * 2**i for i in range(DOWNSAMPLINGS)]
        self.grid = (channels[-1], image_size // 2**DOWNSAMPLINGS, image_size // 2**DOWNSAMPLINGS)
        features = channels[-1] * self.grid[1] * self.grid[2]
        self.condition = nn.Embedding(n_clusters, condition_dim)
        self.encoder = nn.Sequential(
            *(block(nn.Conv2d(c_in, c_out, 4, 2, 1), c_out) for c_in, c_out in pairwise(channels)),
            nn.Flatten(),
        )
        self.to_stats = nn.Linear(features + condition_dim, 2 * latent_dim)
        self.from_latent = nn.Linear(latent_dim + condition_dim, features)
        up = list(reversed(channels))
        self.decoder = nn.Sequential(
            *(
                block(nn.ConvTranspose2d(c_in, c_out, 4, 2, 1), c_out)
                for c_in, c_out in pairwise(up[:-1])
            ),
            nn.ConvTranspose2d(up[-2], 3, 4, 2, 1),
            nn.Sigmoid(),
        )

    def encode(
        self, images: torch.Tensor, clusters: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and log-variance of q(z | images, clusters)."""
        stats = self.to_stats(torch.cat([self.encoder(images), self.condition(clusters)], dim=1))
        return stats.chunk(2, dim=1)

    def decode(self, z: torch.Tensor, clusters: torch.Tensor) -> torch.Tensor:
        hidden = self.from_latent(torch.cat([z, self.condition(clusters)], dim=1))
        return self.decoder(F.leaky_relu(hidden, 0.2).view(-1, *self.grid))

    def forward(
        self, images: torch.Tensor, clusters: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mean, log_var = self.encode(images, clusters)
        z = mean + torch.randn_like(mean) * torch.exp(0.5 * log_var)
        return self.decode(z, clusters), mean, log_var

    @torch.no_grad()
    def aggregate(self, clusters: torch.Tensor) -> torch.Tensor:
        """One face per cluster: the decoding of the prior's mean, z = 0."""
        z = torch.zeros(len(clusters), self.latent_dim, device=clusters.device)
        return self.decode(z, clusters)


def block(layer: nn.Module, channels: int) -> nn.Sequential:
    return nn.Sequential(layer, nn.BatchNorm2d(channels), nn.LeakyReLU(0.2))


def vae_loss(
    reconstruction: torch.Tensor,
    images: torch.Tensor,
    mean: torch.Tensor,
    log_var: torch.Tensor,
    beta: float = 1.0,
) -> torch.Tensor:
    """Squared error summed per image plus ``beta`` times the KL divergence, averaged over the batch."""
    squared_error = F.mse_loss(reconstruction, images, reduction="sum")
    kl = -0.5 * torch.sum(1 + log_var - mean.pow(2) - log_var.exp())
    return (squared_error + beta * kl) / len(images)
