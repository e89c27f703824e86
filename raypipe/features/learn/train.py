"""Training loops: SimCLR (NT-Xent, no labels) and metric learning (batch-hard triplets, labels).

Both run :func:`raypipe.training.train_epochs`: they stop at ``epochs`` or after ``max_seconds``,
whichever comes first, on the device the caller picked (:func:`raypipe.devices.torch_device`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from raypipe.features.learn.augment import Augment
from raypipe.features.learn.backbone import projection_head
from raypipe.training import train_epochs


@dataclass
class TrainLimits:
    epochs: int = 50
    max_seconds: float = 180.0
    batch_size: int = 128
    learning_rate: float = 1e-3
    weight_decay: float = 1e-5
    seed: int = 0


def nt_xent(z1: torch.Tensor, z2: torch.Tensor, temperature: float) -> torch.Tensor:
    """SimCLR's normalised temperature-scaled cross entropy of two views' projections."""
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    logits = z @ z.t() / temperature
    n = z1.shape[0]
    logits.fill_diagonal_(float("-inf"))
    targets = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]).to(z.device)
    return F.cross_entropy(logits, targets)


def batch_hard_triplet(
    embeddings: torch.Tensor, labels: torch.Tensor, margin: float
) -> torch.Tensor:
    """Triplet loss with each anchor's hardest positive and hardest negative in the batch."""
    z = F.normalize(embeddings, dim=1)
    distance = 1.0 - z @ z.t()
    same = labels[:, None] == labels[None, :]
    hardest_positive = distance.masked_fill(~same, float("-inf")).max(dim=1).values
    hardest_negative = distance.masked_fill(same, float("inf")).min(dim=1).values
    valid = torch.isfinite(hardest_negative) & (same.sum(dim=1) > 1)
    losses = F.relu(hardest_positive - hardest_negative + margin)[valid]
    return losses.mean() if losses.numel() else embeddings.sum() * 0.0


def _run_epochs(name: str, limits: TrainLimits, params, n_rows: int, step) -> list[float]:
    """AdamW on ``step(batch_indices) -> loss`` (pairs at least) until a limit is reached."""
    optimiser = torch.optim.AdamW(params, lr=limits.learning_rate, weight_decay=limits.weight_decay)
    return train_epochs(step, n_rows, optimiser, epochs=limits.epochs, batch_size=limits.batch_size,
                        max_seconds=limits.max_seconds, min_batch=2, name=name,
                        generator=torch.Generator().manual_seed(limits.seed))  # fmt: skip


def train_simclr(
    encoder: nn.Module,
    images: torch.Tensor,
    device: torch.device,
    limits: TrainLimits,
    augment: Augment | None = None,
    temperature: float = 0.5,
) -> list[float]:
    """Train ``encoder`` in place on ``images`` (N, 3, S, S) with the NT-Xent loss; returns the
    mean loss of each epoch."""
    torch.manual_seed(limits.seed)
    augment = augment or Augment()
    head = projection_head(encoder.dim).to(device)
    encoder.to(device).train()
    generator = torch.Generator().manual_seed(limits.seed)

    def step(indices: torch.Tensor) -> torch.Tensor:
        batch = images[indices].to(device)
        z1 = head(encoder(augment(batch, generator)))
        z2 = head(encoder(augment(batch, generator)))
        return nt_xent(z1, z2, temperature)

    params = list(encoder.parameters()) + list(head.parameters())
    losses = _run_epochs("simclr", limits, params, len(images), step)
    encoder.eval()
    return losses


def train_metric(
    encoder: nn.Module,
    images: torch.Tensor,
    labels: np.ndarray,
    device: torch.device,
    limits: TrainLimits,
    margin: float = 0.2,
    augment: Augment | None = None,
) -> list[float]:
    """Fine-tune ``encoder`` in place with batch-hard triplets on labelled ``images``; returns
    the mean loss of each epoch."""
    torch.manual_seed(limits.seed)
    augment = augment or Augment()
    _, codes = np.unique(labels, return_inverse=True)
    codes = torch.from_numpy(codes)
    encoder.to(device).train()
    generator = torch.Generator().manual_seed(limits.seed)

    def step(indices: torch.Tensor) -> torch.Tensor:
        batch = augment(images[indices].to(device), generator)
        return batch_hard_triplet(encoder(batch), codes[indices].to(device), margin)

    losses = _run_epochs("metric", limits, list(encoder.parameters()), len(images), step)
    encoder.eval()
    return losses
