"""One shard's work in progress, column by column: what stages read and add, and what is written.

A :class:`ShardWork` holds the shard's images (one entry per input, in list order), the faces
found so far (``image`` indexes the images), comic panels and text regions, error rows and
stage timings. Columns are plain lists (and arrays), never one dict per row. An image that fails
at any stage is marked failed with its stage and reason: its faces, panels and texts go, and it
becomes one ``errors`` row; no stage sees it again.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

#: Statuses of an image in ``images["status"]``: still going, or failed at a stage.
LIVE, FAILED = "", "error"
TABLES = ("images", "faces", "panels", "texts")


def failure(err: Exception) -> str:
    """The reason an unexpected exception gives: its type and message."""
    return f"{type(err).__name__}: {err}"


@dataclass
class ShardWork:
    key: str
    images: dict[str, list] = field(default_factory=dict)
    faces: dict[str, list] = field(default_factory=lambda: {"image": []})
    panels: dict[str, list] = field(default_factory=lambda: {"image": []})
    texts: dict[str, list] = field(default_factory=lambda: {"image": []})
    errors: dict[str, list] = field(default_factory=lambda: {"image_path": [], "stage": [], "reason": []})
    timings: dict[str, float] = field(default_factory=lambda: defaultdict(float))

    @classmethod
    def start(cls, key: str, paths: list[str], ids: list[str]) -> ShardWork:
        return cls(key, {"image_id": ids, "image_path": paths, "status": [LIVE] * len(paths)})

    def live(self) -> list[int]:
        """Indices of the images no stage has failed."""
        return [i for i, status in enumerate(self.images["status"]) if status == LIVE]

    def fail(self, index: int, stage: str, reason: str) -> None:
        """Image ``index`` failed at ``stage``: an error row; its faces and regions are dropped."""
        self.images["status"][index] = FAILED
        for column, value in zip(("image_path", "stage", "reason"), (self.images["image_path"][index], stage, reason)):
            self.errors[column].append(value)
        for name in ("faces", "panels", "texts"):
            table = getattr(self, name)
            if index in table["image"]:
                setattr(self, name, select(table, [n for n, image in enumerate(table["image"]) if image != index]))

    def columns(self) -> set[str]:
        """``table.column`` names present, to check a stage's declared output against."""
        return {f"{name}.{column}" for name in TABLES for column in getattr(self, name)}


def select(table: dict[str, list], rows: list[int]) -> dict[str, list]:
    """The ``rows`` of a column table (lists or arrays)."""
    return {
        column: values[rows] if isinstance(values, np.ndarray) else [values[n] for n in rows]
        for column, values in table.items()
    }


def append_rows(table: dict[str, list], **values: list) -> None:
    """Extend each named column of ``table`` by a list of values (all the same length)."""
    for column, column_values in values.items():
        table.setdefault(column, []).extend(column_values)
