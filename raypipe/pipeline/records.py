"""Rows that flow from the detection stage to the writer: one per face, or one per faceless image."""

from __future__ import annotations

import numpy as np

FACE, NO_FACE, ERROR = "face", "no_face", "error"

#: Columns every row of the detection stage carries, whatever its kind.
ROW_COLUMNS = (
    "kind", "shard", "image_id", "image_path", "width", "height", "stage", "reason",
    "face_index", "n_faces", "x1", "y1", "x2", "y2", "det_score", "landmarks",
    "face_px", "sharpness", "yaw", "chip", "chip_jpeg", "decode_s", "detect_s", "align_s",
)  # fmt: skip


def empty_face_fields(chip_size: int) -> dict:
    """Placeholder face columns for a row that stands for an image with no face."""
    return {
        "face_index": -1, "n_faces": 0, "x1": 0.0, "y1": 0.0, "x2": 0.0, "y2": 0.0,
        "det_score": 0.0, "landmarks": np.zeros(10, np.float32), "face_px": 0.0,
        "sharpness": 0.0, "yaw": 0.0, "chip": np.zeros((chip_size, chip_size, 3), np.uint8),
        "chip_jpeg": b"", "align_s": 0.0,
    }  # fmt: skip


def to_batch(rows: list[dict]) -> dict[str, np.ndarray]:
    """Column-wise numpy batch from row dicts (object arrays for strings and bytes)."""
    batch = {}
    for column in ROW_COLUMNS if rows and "chip" in rows[0] else rows[0].keys():
        values = [row[column] for row in rows]
        if isinstance(values[0], (str, bytes)):
            batch[column] = np.array(values, dtype=object)
        else:
            batch[column] = np.stack(values) if isinstance(values[0], np.ndarray) else np.array(values)
    return batch
