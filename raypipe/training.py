"""The one mini-batch training loop of raypipe's torch models (CVAE, encoders, autoencoder)."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

import torch

log = logging.getLogger(__name__)


def train_epochs(
    step: Callable[[torch.Tensor], torch.Tensor],
    rows: int,
    optimiser: torch.optim.Optimizer,
    *,
    epochs: int,
    batch_size: int,
    max_seconds: float = math.inf,
    generator: torch.Generator | None = None,
    min_batch: int = 1,
    name: str = "training",
) -> list[float]:
    """Minimise ``step(row_indices) -> loss`` over shuffled batches of ``rows`` rows.

    Stops after ``epochs`` or at the first epoch end past ``max_seconds``; batches smaller than
    ``min_batch`` are skipped (contrastive losses need pairs). Returns the loss history: the
    mean loss of each epoch, weighted by batch size.
    """
    history: list[float] = []
    started = time.monotonic()
    log_every = max(1, epochs // 10)
    for epoch in range(1, epochs + 1):
        total, seen = 0.0, 0
        for batch in torch.randperm(rows, generator=generator).split(batch_size):
            if len(batch) < min_batch:
                continue
            loss = step(batch)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total, seen = total + loss.item() * len(batch), seen + len(batch)
        history.append(total / seen if seen else math.nan)
        elapsed = time.monotonic() - started
        if epoch % log_every == 0 or epoch == epochs:
            log.info("%s epoch %d/%d: loss %.4f (%.0f s)", name, epoch, epochs, history[-1], elapsed)
        if elapsed > max_seconds:
            log.info("%s stopped at the %.0f s time limit (epoch %d)", name, max_seconds, epoch)
            break
    return history
