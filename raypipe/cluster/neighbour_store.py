"""The k nearest neighbours of a run's clustering, kept in the run folder for the next one.

A re-cluster (after ``raypipe correct``, or at another threshold) clusters the same vectors, so
it reads the k-NN table of the clustering before instead of searching again (at 1M faces the
search was two thirds of a clustering's CPU). ``RUN/neighbours/`` holds the table in parts of
:data:`PART_ROWS` rows, ``<fingerprint>-<part>.parquet`` (columns ``indices`` int32 and
``distances`` float32, k per row), and ``manifest.json``, written last: the fingerprint
(:func:`raypipe.cluster.knn.search_fingerprint`: the clustered vectors and the search's
settings), the settings in words and each part's SHA-256. Each file is written atomically and
the parts before the manifest, so a killed run leaves the previous table whole or parts no
manifest names (removed by the next save). A manifest of another fingerprint (faces added,
another k or model), a missing part or one whose checksum differs: searched again, with a log
line, and saved anew.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from raypipe import storage
from raypipe.cluster.knn import Neighbours
from raypipe.layout import RunLayout

log = logging.getLogger(__name__)

#: Rows per part file (5 parts at 1M faces).
PART_ROWS = 200_000
MANIFEST = "manifest.json"


class RunNeighbourStore:
    """The k-NN table of one run folder (``RUN/neighbours/``)."""

    def __init__(self, layout: RunLayout):
        self.folder = layout.neighbours

    def load(self, fingerprint: str) -> Neighbours | None:
        """The stored neighbours of ``fingerprint``; None (logged) when absent, stale or damaged."""
        manifest = self._manifest()
        if manifest is None:
            return None
        if manifest.get("fingerprint") != fingerprint:
            log.info(
                "k-NN: %s holds the neighbours of other vectors or settings: searching again",
                self.folder,
            )
            return None
        try:
            parts = [self._read_part(part) for part in manifest["parts"]]
            indices = np.concatenate([p[0] for p in parts])
            distances = np.concatenate([p[1] for p in parts])
            if indices.shape != distances.shape or len(indices) != manifest["rows"]:
                raise ValueError(f"{len(indices)} rows, the manifest names {manifest['rows']}")
        except (OSError, ValueError, KeyError, TypeError, pa.ArrowException) as error:
            log.warning(
                "k-NN: ignoring the neighbours in %s (%s): searching again", self.folder, error
            )
            return None
        log.info("k-NN: reusing the neighbours of %d faces saved in %s", len(indices), self.folder)
        return Neighbours(indices=indices.astype(np.int64), distances=distances)

    def save(self, fingerprint: str, neighbours: Neighbours, settings: dict) -> None:
        """Write the parts, then the manifest; then remove the parts of earlier tables."""
        n, k = neighbours.indices.shape
        parts = []
        for number, start in enumerate(range(0, n, PART_ROWS)):
            table = pa.table({
                "indices": _rows(neighbours.indices[start : start + PART_ROWS].astype(np.int32), k),
                "distances": _rows(neighbours.distances[start : start + PART_ROWS].astype(np.float32), k),
            })  # fmt: skip
            sink = pa.BufferOutputStream()
            pq.write_table(table, sink)
            data = sink.getvalue().to_pybytes()
            name = f"{fingerprint[:16]}-{number:05d}.parquet"
            storage.write_atomic(self.folder / name, data)
            parts.append(
                {"file": name, "rows": table.num_rows, "sha256": hashlib.sha256(data).hexdigest()}
            )
        manifest = {
            "fingerprint": fingerprint,
            "rows": n,
            "k": k,
            "settings": settings,
            "parts": parts,
        }
        storage.write_atomic(self.folder / MANIFEST, json.dumps(manifest, indent=1).encode())
        kept = {part["file"] for part in parts} | {MANIFEST}
        for path in self.folder.glob("*"):
            if path.name not in kept:
                path.unlink()
        log.info("k-NN: neighbours of %d faces saved in %s (%d parts)", n, self.folder, len(parts))

    def _manifest(self) -> dict | None:
        path = self.folder / MANIFEST
        if not path.exists():
            return None
        try:
            manifest = json.loads(path.read_bytes())
        except (OSError, ValueError) as error:
            log.warning("k-NN: ignoring %s (%s): searching again", path, error)
            return None
        return manifest if isinstance(manifest, dict) else None

    def _read_part(self, part: dict) -> tuple[np.ndarray, np.ndarray]:
        path = self.folder / Path(part["file"]).name  # a name in the folder, never a path out of it
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != part["sha256"]:
            raise ValueError(f"{path.name} does not match its checksum")
        table = pq.read_table(io.BytesIO(data))
        return _matrix(table.column("indices")), _matrix(table.column("distances"))


def _rows(matrix: np.ndarray, k: int) -> pa.FixedSizeListArray:
    return pa.FixedSizeListArray.from_arrays(pa.array(np.ascontiguousarray(matrix).ravel()), k)


def _matrix(column: pa.ChunkedArray) -> np.ndarray:
    array = column.combine_chunks()
    return array.values.to_numpy().reshape(len(array), array.type.list_size)
