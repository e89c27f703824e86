"""Make a run folder from a labelled folder of pre-cropped faces (one face per image).

Each ``ROOT/<label>/<image>`` becomes one face: ``faces.parquet`` (face_id, image_id,
image_path, face_index, label) and ``chips/<face_id>.jpg`` (the whole crop resized to a square),
the layout ``raypipe extract --set extract.detector=whole-image`` writes, without embeddings.

    python bench/make_labelled_run.py ../shared/data/anime runs/anime --size 128
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import cv2
import pandas as pd

from raypipe.ids import face_id, image_id
from raypipe.layout import RunLayout

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}
log = logging.getLogger("make_labelled_run")


def make_run(root: Path, out: Path, size: int = 128, limit_per_label: int | None = None) -> Path:
    """Write the run folder ``out`` for the labelled crops under ``root``; returns ``out``."""
    layout = RunLayout.at(out)
    layout.chips.mkdir(parents=True, exist_ok=True)
    rows = []
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
            cv2.imwrite(str(layout.chip(fid)), chip, [cv2.IMWRITE_JPEG_QUALITY, 95])
            rows.append(
                {"face_id": fid, "image_id": image_id(uri), "image_path": uri, "face_index": 0,
                 "label": label_dir.name}
            )
    pd.DataFrame(rows).to_parquet(layout.faces, index=False)
    log.info("%d faces of %d labels -> %s", len(rows), len({r["label"] for r in rows}), out)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--limit-per-label", type=int)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    make_run(args.root, args.out, args.size, args.limit_per_label)


if __name__ == "__main__":
    main()
