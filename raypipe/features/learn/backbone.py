"""A small convolutional encoder that trains in minutes on a CPU, and its weight files."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import torch
from torch import nn


def _block(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
        nn.Conv2d(c_out, c_out, 3, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(2),
    )


class SmallCNN(nn.Module):
    """Four conv blocks (``width`` doubling each time) and global average pooling.

    Input: (N, 3, S, S) floats in [0, 1], any S divisible by 16; output: (N, 8 * width).
    """

    def __init__(self, width: int = 32):
        super().__init__()
        widths = [3, width, 2 * width, 4 * width, 8 * width]
        self.blocks = nn.Sequential(*[_block(a, b) for a, b in pairwise(widths)])
        self.dim = widths[-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.blocks(x).mean(dim=(2, 3))


def projection_head(dim: int, out_dim: int = 128) -> nn.Sequential:
    """SimCLR's MLP head: the contrastive loss is applied on its output, features taken before it."""
    return nn.Sequential(nn.Linear(dim, dim), nn.ReLU(inplace=True), nn.Linear(dim, out_dim))


def state_to_arrays(module: nn.Module) -> dict[str, np.ndarray]:
    """``module``'s weights as plain arrays (stored with ``np.savez``, no pickle)."""
    return {key: value.detach().cpu().numpy() for key, value in module.state_dict().items()}


def load_arrays(module: nn.Module, arrays: dict[str, np.ndarray]) -> nn.Module:
    """Load weights saved by :func:`state_to_arrays` into ``module``."""
    module.load_state_dict({key: torch.from_numpy(np.asarray(v)) for key, v in arrays.items()})
    return module


def chips_to_tensor(chips, size: int) -> torch.Tensor:
    """RGB uint8 chips (any square size) -> (N, 3, size, size) float tensor in [0, 1]."""
    from raypipe.features.base import square_resize

    batch = np.stack([square_resize(chip, size) for chip in chips])
    return torch.from_numpy(batch).permute(0, 3, 1, 2).float().div_(255.0)


@torch.no_grad()
def encode(
    model: nn.Module, images: torch.Tensor, device: torch.device, batch_size: int = 256
) -> np.ndarray:
    """(N, dim) float32 embeddings of ``images`` (eval mode, batched)."""
    model.eval()
    parts = [
        model(images[i : i + batch_size].to(device)).cpu()
        for i in range(0, len(images), batch_size)
    ]
    return (
        torch.cat(parts).numpy().astype(np.float32)
        if parts
        else np.zeros((0, model.dim), np.float32)
    )
