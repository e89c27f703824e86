"""A labelled crop dataset from a run: its aligned chips embedded as they are, optionally degraded.

    python bench/crop_embeddings.py RUN OUT.parquet [--side 48] [--min-photos 10] [--model-root DIR]

Takes the largest face of each labelled image (label: the image's parent folder) of identities with
at least ``--min-photos`` images, as face datasets of aligned crops are (MS1M, VGGFace2: many crops
per person). ``--side`` emulates a low-resolution crop dataset: each chip is downscaled to that
side and back before it is embedded (no re-detection, no re-alignment). Writes a faces.parquet-like
table (``embedding``, ``label``, ``image_id``, ``embedder``, box columns) for
``bench/generalisation.py``.
"""

from __future__ import annotations

import argparse

import cv2
import numpy as np
import pandas as pd

from raypipe.chips import ChipStore
from raypipe.embed import EMBEDDERS
from raypipe.embed.select import resolve_embedder
from raypipe.evaluation.compare import load_labelled_faces
from raypipe.layout import RunLayout


def degrade(chip: np.ndarray, side: int | None) -> np.ndarray:
    """``chip`` downscaled to ``side`` pixels and back (None: unchanged)."""
    if not side:
        return chip
    size = chip.shape[:2][::-1]
    small = cv2.resize(chip, (side, side), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, size, interpolation=cv2.INTER_LINEAR)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run")
    parser.add_argument("out")
    parser.add_argument("--side", type=int, default=None, help="degrade chips to this side")
    parser.add_argument("--min-photos", type=int, default=10)
    parser.add_argument("--model-root", default=None)
    args = parser.parse_args()
    layout = RunLayout.at(args.run)
    faces = pd.read_parquet(layout.faces)
    labelled = load_labelled_faces(layout.faces)
    keep = (
        labelled.scored
        & (
            pd.Series(labelled.labels).map(pd.Series(labelled.labels).value_counts())
            >= args.min_photos
        ).to_numpy()
    )
    faces = faces[keep].reset_index(drop=True)
    faces["label"] = labelled.labels[keep]
    model = str(faces["embedder"].iloc[0])
    name = "dlib" if model.startswith("dlib") else "auto"
    embedder = EMBEDDERS.build(resolve_embedder({"name": name}, args.model_root))
    chips = ChipStore(layout).images(faces.face_id.tolist())
    faces["embedding"] = list(embedder.embed(np.stack([degrade(c, args.side) for c in chips])))
    columns = [
        "face_id",
        "image_id",
        "image_path",
        "label",
        "embedder",
        "x1",
        "y1",
        "x2",
        "y2",
        "embedding",
    ]
    faces[columns].to_parquet(args.out)
    print(
        f"{args.out}: {len(faces)} crops of {faces.label.nunique()} people, {model}, side {args.side}"
    )


if __name__ == "__main__":
    main()
