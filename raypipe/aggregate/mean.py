"""The mean face: the pixel-wise average of aligned chips (they share eye and mouth positions)."""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from PIL import Image


def load_chip(path: Path, size: int) -> np.ndarray:
    """An aligned chip (a local or stored file, see :mod:`raypipe.storage`) as ``size`` x ``size`` RGB uint8."""
    with Image.open(io.BytesIO(path.read_bytes())) as image:
        return np.asarray(image.convert("RGB").resize((size, size), Image.Resampling.BILINEAR))


def mean_face(chips: Iterable[Path], size: int = 112) -> np.ndarray | None:
    """The average of ``chips`` as ``size`` x ``size`` RGB uint8; None when there are none.

    >>> mean_face([]) is None
    True
    """
    total, count = np.zeros((size, size, 3), dtype=np.float64), 0
    for path in chips:
        total += load_chip(path, size)
        count += 1
    return (total / count).round().astype(np.uint8) if count else None
