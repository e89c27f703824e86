"""The torch device that trainers, reducers and embedders run on, chosen one way."""

from __future__ import annotations

import re

import torch

from raypipe.errors import UsageError

DEVICE_PATTERN = re.compile(r"auto|cpu|cuda(:\d+)?")


def torch_device(name: str = "auto") -> torch.device:
    """``auto``: the first GPU when torch sees one, else the CPU; ``cpu``, ``cuda``, ``cuda:N``: that one.

    A GPU asked for but absent is a usage error (one line), never a silent fall back to the CPU.
    """
    if not DEVICE_PATTERN.fullmatch(name):
        raise UsageError(f"unknown device {name!r}; use auto, cpu, cuda or cuda:N")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if (device.index or 0) >= count:
            found = f"{count} GPU(s)" if count else "no GPU"
            raise UsageError(f"device {name!r} asked for, but torch sees {found}; use --device cpu or auto")
    return device
