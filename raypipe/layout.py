"""Where everything of a run lives: the output contract other tools read.

``RUN/`` holds ``config.json``, ``summary.json``, the tables ``images.parquet/`` (one row per
input: status ``faces`` / ``no_face`` / ``error``), ``faces.parquet/``, ``errors.parquet/``,
``chips.parquet/`` (each face's aligned chip as JPEG bytes, see :mod:`raypipe.chips`; run folders
of earlier versions hold ``chips/<face_id>.jpg`` instead) (and for comics ``panels.parquet/``,
``texts.parquet/`` and ``panel_crops.parquet/``, earlier ``panels/<panel_id>.jpg``), ``clusters.csv`` and ``clusters.parquet``, ``neighbours/`` (the k-NN table of an approximate
search, reused by the next clustering of the same faces), ``corrections.yaml`` (people's
corrections, see :mod:`raypipe.corrections`), ``suggestions.csv``, ``metrics.json``,
``report.html`` (with the images it makes in ``report_files/``), ``aggregate/<cluster>.png``
(faces decoded by ``raypipe aggregate``) and, only when exported (``raypipe export RUN
--folders``), ``clustered_faces/<cluster>/...``; shard markers and input lists live in ``_shards/``.

A table is a Parquet dataset: a folder of one file per shard (``<shard key>.parquet``), read
whole by pyarrow, pandas, DuckDB (``'faces.parquet/*.parquet'``) or Ray Data; read it with
:meth:`RunLayout.read_table`, naming the columns you need.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from raypipe import storage

if TYPE_CHECKING:
    import pandas as pd

#: The tables of an extraction, each a folder of Parquet files (see the module docstring).
TABLES = ("faces", "images", "errors", "chips", "panels", "panel_crops", "texts")
CLUSTERS_CSV_COLUMNS = ["face_id", "image_path", "x1", "y1", "x2", "y2", "det_score", "cluster", "person"]


@dataclass(frozen=True)
class RunLayout:
    #: A local folder (plain paths and ``file://``), or a :class:`raypipe.storage.StoragePath`
    #: for ``s3://``, ``gs://`` and the other URIs fsspec serves.
    root: Path | storage.StoragePath

    @classmethod
    def at(cls, root: str | os.PathLike) -> RunLayout:
        return cls(storage.location(root))

    def read_table(self, table: str, columns: list[str] | None = None) -> pa.Table:
        """One of :data:`TABLES` (all its files, in shard order), only ``columns`` when given."""
        return storage.read_table(getattr(self, table), columns=columns)

    @property
    def config(self) -> Path:
        return self.root / "config.json"

    @property
    def summary(self) -> Path:
        return self.root / "summary.json"

    @property
    def images(self) -> Path:
        return self.root / "images.parquet"

    @property
    def faces(self) -> Path:
        return self.root / "faces.parquet"

    @property
    def errors(self) -> Path:
        return self.root / "errors.parquet"

    @property
    def panels(self) -> Path:
        """Comic panels: image_id, image_path, panel_index, x1, y1, x2, y2."""
        return self.root / "panels.parquet"

    @property
    def texts(self) -> Path:
        """Text regions (speech balloons, captions) of comic pages: image_id, image_path, x1..y2."""
        return self.root / "texts.parquet"

    @property
    def panel_crops(self) -> Path:
        """Comic panel crops: panel_id, jpeg (bytes); read them with ``ChipStore(layout, panels=True)``."""
        return self.root / "panel_crops.parquet"

    @property
    def panel_crop_files(self) -> Path:
        """Panel crops of run folders written before ``panel_crops.parquet/``: ``<panel_id>.jpg``."""
        return self.root / "panels"

    @property
    def chips(self) -> Path:
        """Aligned face chips: face_id, jpeg (bytes); read them with :class:`raypipe.chips.ChipStore`."""
        return self.root / "chips.parquet"

    @property
    def chip_files(self) -> Path:
        """Chips of run folders written before ``chips.parquet/``: one ``<face_id>.jpg`` each."""
        return self.root / "chips"

    @property
    def shards(self) -> Path:
        return self.root / "_shards"

    @property
    def clusters(self) -> Path:
        return self.root / "clusters.csv"

    @property
    def corrections(self) -> Path:
        return self.root / "corrections.yaml"

    @property
    def suggestions(self) -> Path:
        return self.root / "suggestions.csv"

    @property
    def clusters_table(self) -> Path:
        """The clusters as Parquet (same columns as ``clusters.csv``)."""
        return self.root / "clusters.parquet"

    @property
    def neighbours(self) -> Path:
        """The k nearest neighbours of the last clustering, for the next (:mod:`raypipe.cluster.neighbour_store`)."""
        return self.root / "neighbours"

    @property
    def clustered_faces(self) -> Path:
        """One folder per cluster, written only by ``raypipe export RUN --folders``."""
        return self.root / "clustered_faces"

    @property
    def metrics(self) -> Path:
        return self.root / "metrics.json"

    @property
    def report(self) -> Path:
        return self.root / "report.html"

    @property
    def report_files(self) -> Path:
        return self.root / "report_files"

    @property
    def aggregate(self) -> Path:
        return self.root / "aggregate"

    @property
    def features(self) -> Path:
        return self.root / "features"

    @property
    def reductions(self) -> Path:
        return self.root / "reductions"

    @property
    def results(self) -> Path:
        return self.root / "results"

    @property
    def tune(self) -> Path:
        return self.root / "tune"


def read_clusters(layout: RunLayout) -> pd.DataFrame:
    """``clusters.csv`` of a run (local or in a bucket)."""
    return storage.read_csv(layout.clusters)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the whole new one."""
    storage.write_atomic(path, data)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))
