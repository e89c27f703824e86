"""Embeddings of a large run streamed from its faces dataset into a memory-mapped float32 file.

Reading millions of faces as pandas rows holds one Python list per face; instead the faces
dataset is scanned in record batches, reading the ``embedding`` column only, and each batch
is written into a ``.npy`` memmap, in the row order of :meth:`raypipe.layout.RunLayout.read_table`.
The file lives in a temp folder (``TMPDIR``, or ``folder``) removed when the array is collected;
the k-NN tasks (:mod:`raypipe.cluster.knn_shards`) memory-map the same file.
"""

from __future__ import annotations

import shutil
import tempfile
import weakref
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pyarrow.dataset as ds

from raypipe import storage
from raypipe.layout import RunLayout

#: Faces above which a run's embeddings are streamed instead of read as pandas rows.
STREAM_LIMIT = 200_000
BATCH_ROWS = 65_536


@dataclass(frozen=True)
class StreamedEmbeddings:
    """``X[i]``: the embedding of row i of the faces table (zeros where ``present[i]`` is False)."""

    X: np.ndarray
    present: np.ndarray


def faces_dataset(layout: RunLayout) -> ds.Dataset:
    path = layout.faces
    if isinstance(path, storage.StoragePath):
        return ds.dataset(path.path, format="parquet", filesystem=path.fs)
    return ds.dataset(path, format="parquet")


def face_count(layout: RunLayout) -> int:
    """Rows of the faces table, from the Parquet footers (no data read)."""
    return faces_dataset(layout).count_rows()


def stream_embeddings(layout: RunLayout, folder: str | Path | None = None) -> StreamedEmbeddings:
    """The ``embedding`` column of the faces table as a float32 ``(n, dim)`` memmap."""
    dataset = faces_dataset(layout)
    n = dataset.count_rows()
    scratch = Path(tempfile.mkdtemp(prefix="raypipe-embeddings-", dir=folder))
    present = np.zeros(n, dtype=bool)
    X = None
    offset = 0
    for batch in dataset.to_batches(columns=["embedding"], batch_size=BATCH_ROWS):
        column = batch.column(0)
        valid = column.is_valid().to_numpy(zero_copy_only=False)
        if valid.any():
            kept = column.filter(pc.is_valid(column))
            lengths = pc.list_value_length(kept).to_numpy()
            if lengths.min() != lengths.max() or (X is not None and lengths[0] != X.shape[1]):
                raise ValueError(
                    f"{layout.faces}: embeddings of different lengths {set(lengths.tolist())}"
                )
            if X is None:
                X = np.lib.format.open_memmap(
                    scratch / "embeddings.npy", "w+", np.float32, (n, int(lengths[0]))
                )
                weakref.finalize(X, shutil.rmtree, scratch, ignore_errors=True)
            values = (
                pc.list_flatten(kept).to_numpy(zero_copy_only=False).astype(np.float32, copy=False)
            )
            X[offset + np.flatnonzero(valid)] = values.reshape(len(kept), -1)
        present[offset : offset + len(valid)] = valid
        offset += len(valid)
    if X is None:
        shutil.rmtree(scratch, ignore_errors=True)
        X = np.zeros((n, 0), np.float32)
    return StreamedEmbeddings(X=X, present=present)


def embedding_matrix(layout: RunLayout, faces) -> np.ndarray:
    """Embeddings of every row of ``faces`` (the whole faces table): its ``embedding`` column when
    it was read, else streamed (:func:`load_faces` leaves the column out of large runs)."""
    if "embedding" in faces:
        return np.stack(faces["embedding"].to_numpy())
    return stream_embeddings(layout).X
