"""Folder labels, computed one way for eval, report, tune, research and the benchmarks.

The parent folder of an image names the person (or character) of its largest face (box area);
the other faces of the image carry no label. A faces table with a ``label`` column (labelled
crops) keeps its own labels. Image paths may be local paths or URIs (``s3://bucket/a/b.jpg``).
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from raypipe.storage import is_uri


def folder_label(image_path: str, labels_root: str | None) -> str | None:
    """The parent folder's name, for images under ``labels_root`` (any image when it is None)."""
    if is_uri(image_path):
        parts = image_path.rstrip("/").split("/")
        under = labels_root is None or image_path.startswith(f"{labels_root.rstrip('/')}/")
        return parts[-2] if under and len(parts) > 1 else None
    path = Path(image_path)
    if labels_root is not None and (is_uri(labels_root) or not _lies_under(path, labels_root)):
        return None
    return path.parent.name


def _lies_under(path: Path, folder: str) -> bool:
    """Whether ``path`` lies under ``folder`` as the user named them (a folder of symlinks to
    images elsewhere labels its links), or once both are resolved through their symlinks."""
    as_named = Path(os.path.abspath(path)).is_relative_to(_absolute(folder))
    return as_named or path.resolve().is_relative_to(_resolved(folder))


@functools.lru_cache(maxsize=8)
def _absolute(folder: str) -> Path:
    """``folder`` made absolute and normalised, its symlinks kept, once rather than per image."""
    return Path(os.path.abspath(folder))


@functools.lru_cache(maxsize=8)
def _resolved(folder: str) -> Path:
    """``folder`` resolved once, not once per image."""
    return Path(folder).resolve()


def largest_faces(faces: pd.DataFrame) -> dict[str, int]:
    """Image path -> row number in ``faces`` of that image's largest face (box area)."""
    area = (faces.x2 - faces.x1) * (faces.y2 - faces.y1)
    order = np.argsort(-area.to_numpy(), kind="stable")
    paths = faces["image_path"].to_numpy()[order]
    _, first = np.unique(paths, return_index=True)
    return dict(zip(paths[first], order[first]))


def largest_face_mask(faces: pd.DataFrame) -> np.ndarray:
    """True for the largest face of each image: the faces that labels are scored on."""
    mask = np.zeros(len(faces), dtype=bool)
    mask[list(largest_faces(faces).values())] = True
    return mask


def face_labels(faces: pd.DataFrame, labels_root: str | None = None) -> np.ndarray:
    """Per face: its ``label`` column when the table has one, else the folder label of each
    image's largest face (None for the other faces and for images outside ``labels_root``)."""
    if "label" in faces:
        return faces["label"].to_numpy(dtype=object)
    labels = np.full(len(faces), None, dtype=object)
    for path, row in largest_faces(faces).items():
        labels[row] = folder_label(path, labels_root)
    return labels


@dataclass(frozen=True)
class LabelTargets:
    """Which face carries the folder label of each labelled input image.

    ``face_rows`` holds, per labelled image, the row of its largest face in the faces table, or
    -1 when the image has no face (none found, or an error): such images count as missed.
    """

    truth: list[str]
    face_rows: np.ndarray

    @property
    def missed(self) -> int:
        return int((self.face_rows < 0).sum())

    def predicted(self, clusters: np.ndarray) -> np.ndarray:
        """Per labelled image, the cluster of its labelled face; -1 (a singleton) when missed."""
        return np.where(self.face_rows >= 0, np.asarray(clusters)[np.maximum(self.face_rows, 0)], -1)


def label_targets(images: pd.DataFrame, faces: pd.DataFrame, labels_root: str | None) -> LabelTargets:
    """The labelled images of a run and their largest faces (rows of ``faces``: bbox columns)."""
    largest = largest_faces(faces)
    truth, rows = [], []
    for path in sorted(images["image_path"]):
        label = folder_label(path, labels_root)
        if label is not None:
            truth.append(label)
            rows.append(largest.get(path, -1))
    return LabelTargets(truth, np.array(rows, dtype=np.int64))
