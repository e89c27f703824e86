"""Where ``fr_landmark.onnx`` should crop an RFB box: fitted on one half of the identities.

    python bench/landmark_crop.py DLIB_RUN/faces.parquet --model-root /work/cache/models

``DLIB_RUN`` is an extraction with the default chain (dlib-hog + dlib's 68 points) of labelled
photos (``lfw``): its five points are what the ArcFace thresholds were fitted on. On each image
where dlib found one face, the RFB box overlapping it most (IoU >= 0.3) is cropped with a grid of
centre shifts (fractions of the box's width, height) and sides (fractions of its height); each
crop's five points are compared with dlib's (mean distance / eye distance). The grid is scored on
the ``fit`` identities (``raypipe.evaluation.protocol``); the best cell, the current default and
the whole box are then scored on the ``held_out`` identities too.
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from raypipe.detect.landmarks68 import CROP_SHIFT, CROP_SIDE
from raypipe.detect.rfb import RfbDetector
from raypipe.detect.torch_ops import pairwise_overlap, to_device
from raypipe.evaluation.protocol import identity_side

SHIFTS_X = (0.0, 0.02, 0.04, 0.06)
SHIFTS_Y = (0.04, 0.08, 0.1, 0.12, 0.14, 0.16)
SIDES = (0.72, 0.8, 0.85, 0.9)


def matched_faces(faces_path: str, detector: RfbDetector) -> pd.DataFrame:
    """One row per image with one dlib face: side, pixels, the matching RFB box, dlib's points."""
    from raypipe.config import ExtractConfig
    from raypipe.io.decode import decode_image

    faces = pd.read_parquet(faces_path, columns=["image_path", "x1", "y1", "x2", "y2", "landmarks"])
    faces = faces[faces.groupby("image_path").image_path.transform("size") == 1]
    config, rows = ExtractConfig(), []
    for face in faces.itertuples():
        decoded = decode_image(
            Path(face.image_path).read_bytes(), config.max_image_pixels, config.max_side
        )
        pixels = to_device(decoded.pixels, "cpu")
        boxes, _, keep = detector.candidates([pixels])
        boxes = boxes[0][keep[0]]
        dlib_box = (
            torch.tensor([[face.x1, face.y1, face.x2, face.y2]], dtype=boxes.dtype) / decoded.scale
        )
        overlap = pairwise_overlap(torch.cat([dlib_box, boxes]))[0, 1:]
        if not len(boxes) or overlap.max() < 0.3:
            continue
        rows.append({
            "side": identity_side(Path(face.image_path).parent.name),
            "pixels": pixels,
            "box": boxes[overlap.argmax()][None],
            "points": np.asarray(face.landmarks, np.float32).reshape(5, 2) / decoded.scale,
        })  # fmt: skip
    return pd.DataFrame(rows)


def point_error(detector: RfbDetector, faces: pd.DataFrame, shift, side) -> float:
    """Mean over faces of the five points' mean distance to dlib's, over dlib's eye distance."""
    detector.landmarker.crop_shift, detector.landmarker.crop_side = shift, side
    five = np.concatenate(detector.landmarker.five_points(list(faces.pixels), list(faces.box)))
    truth = np.stack(faces.points)
    eyes = np.linalg.norm(truth[:, 1] - truth[:, 0], axis=1)
    return float((np.linalg.norm(five - truth, axis=2).mean(axis=1) / eyes).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("faces", help="faces.parquet of a dlib-hog extraction of labelled photos")
    parser.add_argument("--model-root", default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)
    detector = RfbDetector(model_root=args.model_root, device="cpu")
    with torch.inference_mode():
        faces = matched_faces(args.faces, detector)
        fit, held_out = (faces[faces.side == side] for side in ("fit", "held_out"))
        print(f"faces matched: fit {len(fit)}, held-out {len(held_out)}")
        grid = {
            ((x, y), side): point_error(detector, fit, (x, y), side)
            for x, y, side in itertools.product(SHIFTS_X, SHIFTS_Y, SIDES)
        }
        best = min(grid, key=grid.get)
        print("| shift x | shift y | side | fit error |\n|---|---|---|---|")
        for (shift, side), error in sorted(grid.items(), key=lambda item: item[1])[:10]:
            print(f"| {shift[0]} | {shift[1]} | {side} | {error:.4f} |")
        print("\n| crop | fit error | held-out error |\n|---|---|---|")
        for name, (shift, side) in {
            "whole box (side = height)": ((0.0, 0.0), 1.0),
            "best of the grid": best,
            "default": (CROP_SHIFT, CROP_SIDE),
        }.items():
            errors = [point_error(detector, half, shift, side) for half in (fit, held_out)]
            print(f"| {name} {shift}, {side} | {errors[0]:.4f} | {errors[1]:.4f} |")


if __name__ == "__main__":
    main()
