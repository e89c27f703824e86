"""Rows that flow from the detection stage to the writer.

An image gives one row per face, or one row saying it has none (``no_face``) or failed
(``error``); a comic page also gives one row per panel and per text region. Every row of an
image carries ``n_rows``, the number of rows the image gave, so the writer knows when an image
is complete.
"""

from __future__ import annotations

import numpy as np

FACE, NO_FACE, ERROR = "face", "no_face", "error"
#: Comic pages also give one row per panel and per text region.
PANEL, TEXT = "panel", "text"

#: Columns every row of the detection stage carries, whatever its kind.
ROW_COLUMNS = (
    "kind", "shard", "image_id", "image_path", "width", "height", "stage", "reason",
    "face_index", "panel_index", "n_rows", "x1", "y1", "x2", "y2", "det_score", "landmarks",
    "face_px", "sharpness", "yaw", "chip", "chip_jpeg", "decode_s", "detect_s", "align_s",
)  # fmt: skip


def empty_face_fields(chip_size: int) -> dict:
    """Placeholder face columns for a row that stands for an image with no face."""
    return {
        "face_index": -1, "panel_index": -1, "x1": 0.0, "y1": 0.0, "x2": 0.0, "y2": 0.0,
        "det_score": 0.0, "landmarks": np.zeros(10, np.float32), "face_px": 0.0,
        "sharpness": 0.0, "yaw": 0.0, "chip": np.zeros((chip_size, chip_size, 3), np.uint8),
        "chip_jpeg": b"", "align_s": 0.0,
    }  # fmt: skip


def to_batch(rows: list[dict]) -> dict[str, np.ndarray]:
    """Column-wise numpy batch of :data:`ROW_COLUMNS` from row dicts (object arrays for strings
    and bytes). Every image gives at least one row, so ``rows`` is never empty."""
    batch = {}
    for column in ROW_COLUMNS:
        values = [row[column] for row in rows]
        if isinstance(values[0], (str, bytes)):
            batch[column] = np.array(values, dtype=object)
        else:
            batch[column] = np.stack(values) if isinstance(values[0], np.ndarray) else np.array(values)
    return batch
