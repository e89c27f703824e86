"""Rows of one shard, from detection to the shard's tables.

An image gives one row per face, or one row saying it has none (``no_face``) or failed
(``error``); a comic page also gives one row per panel and per text region.
"""

from __future__ import annotations

import numpy as np

FACE, NO_FACE, ERROR = "face", "no_face", "error"
#: Comic pages also give one row per panel and per text region.
PANEL, TEXT = "panel", "text"


def empty_face_fields() -> dict:
    """Placeholder face columns for a row that stands for an image, a panel or a text region."""
    return {
        "face_index": -1, "panel_index": -1, "x1": 0.0, "y1": 0.0, "x2": 0.0, "y2": 0.0,
        "det_score": 0.0, "landmarks": np.zeros(10, np.float32), "face_px": 0.0,
        "sharpness": 0.0, "yaw": 0.0, "chip_jpeg": b"",
    }  # fmt: skip
