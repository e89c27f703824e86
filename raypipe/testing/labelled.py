"""A run folder from a labelled folder of pre-cropped faces (one face per image), no detector.

Each ``ROOT/<label>/<image>`` becomes one face: ``faces.parquet`` (face_id, image_id,
image_path, face_index, label) and ``chips.parquet/`` (the whole crop resized to a square):
the layout research features read, for crops whose faces need no detection or alignment.
"""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import pandas as pd

from raypipe import storage
from raypipe.chips import chips_table
from raypipe.ids import face_id, image_id
from raypipe.layout import RunLayout

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}
log = logging.getLogger(__name__)


def make_labelled_run(
    root: Path, out: Path, size: int = 128, limit_per_label: int | None = None
) -> Path:
    """Write the run folder ``out`` for the labelled crops under ``root``; returns ``out``."""
    layout = RunLayout.at(out)
    rows, jpegs = [], []
    for label_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        images = sorted(p for p in label_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        for path in images[:limit_per_label]:
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is None:
                log.warning("cannot decode %s", path)
                continue
            uri = str(path.resolve())
            fid = face_id(image_id(uri), 0)
            chip = cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)
            jpegs.append(cv2.imencode(".jpg", chip, [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes())
            rows.append(
                {
                    "face_id": fid,
                    "image_id": image_id(uri),
                    "image_path": uri,
                    "face_index": 0,
                    "label": label_dir.name,
                }
            )
    storage.write_table(layout.chips / "labelled.parquet", chips_table([r["face_id"] for r in rows], jpegs))
    pd.DataFrame(rows).to_parquet(layout.faces, index=False)
    log.info("%d faces of %d labels -> %s", len(rows), len({r["label"] for r in rows}), out)
    return out
