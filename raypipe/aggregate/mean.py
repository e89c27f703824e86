"""The mean face: the pixel-wise average of aligned chips (they share eye and mouth positions)."""

from __future__ import annotations

import io
from collections.abc import Iterable

import numpy as np
from PIL import Image


def load_chip(jpeg: bytes, size: int) -> np.ndarray:
    """An aligned chip's JPEG bytes (see :class:`raypipe.chips.ChipStore`) as ``size`` x ``size`` RGB uint8."""
    with Image.open(io.BytesIO(jpeg)) as image:
        return np.asarray(image.convert("RGB").resize((size, size), Image.Resampling.BILINEAR))


def mean_face(chips: Iterable[bytes], size: int = 112) -> np.ndarray | None:
    """The average of ``chips`` (JPEG bytes) as ``size`` x ``size`` RGB uint8; None when there are none.

    >>> mean_face([]) is None
    True
    """
    total, count = np.zeros((size, size, 3), dtype=np.float64), 0
    for jpeg in chips:
        total += load_chip(jpeg, size)
        count += 1
    return (total / count).round().astype(np.uint8) if count else None
