"""The k-NN search of millions of faces in parallel Ray tasks, over one IVF index on disk.

The driver trains the IVF cells on a sample (:func:`raypipe.cluster.ivf.ivf_index`) and writes
the empty index; Ray tasks assign their shard of rows to the ``nprobe`` nearest cells (the
costly part, done once for adding and searching); the driver fills the inverted lists from the
first cell of each row and writes the index; Ray tasks memory-map it and search their shard in
the cells already found; then (:data:`raypipe.cluster.ivf.REFINE_ROUNDS` times) the driver
writes the k-NN table and Ray tasks refine their shard by the neighbours of its neighbours
(:func:`raypipe.cluster.ivf.refine`), reading the table memory-mapped. Tasks read the rows from
a ``.npy`` file memory-mapped by every worker (the caller's memmap when it has one), so no
process holds more than one copy of the vectors and the index is shared through the page cache.
The tasks run on the driver's machine unless ``scratch`` (or ``RAYPIPE_SCRATCH``) names a folder
every node of the cluster sees (a shared file system): then on any node.
"""

from __future__ import annotations

import logging
import mmap
import os
import tempfile
from pathlib import Path

import numpy as np

from raypipe.cluster import ivf
from raypipe.cluster.ivf import ivf_index

log = logging.getLogger(__name__)

#: Rows per Ray task.
SHARD_ROWS = 200_000
#: Rows added to the index at a time by the driver.
ADD_BLOCK = 500_000


def embeddings_file(X: np.ndarray, scratch: Path) -> Path:
    """A ``.npy`` file of ``X``: its own file when ``X`` maps a whole float32 ``.npy`` (not a
    view of one), else a copy."""
    whole_map = isinstance(X, np.memmap) and isinstance(X.base, mmap.mmap)
    if whole_map and X.filename and str(X.filename).endswith(".npy"):
        mapped = np.load(X.filename, mmap_mode="r")
        if mapped.shape == X.shape and mapped.dtype == X.dtype == np.float32:
            return Path(X.filename)
    path = scratch / "embeddings.npy"
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=X.shape)
    for start in range(0, len(X), ADD_BLOCK):
        out[start : start + ADD_BLOCK] = X[start : start + ADD_BLOCK]
    out.flush()
    return path


def _read_index(path: str, mmap: bool):
    import faiss

    faiss.omp_set_num_threads(1)  # one core per task: Ray runs one task per core
    return faiss.read_index(path, faiss.IO_FLAG_MMAP if mmap else 0)


def _assign_shard(index_path: str, rows_path: str, start: int, stop: int) -> np.ndarray:
    """The ``nprobe`` nearest IVF cells of rows ``start:stop`` (int32)."""
    index = _read_index(index_path, mmap=False)
    X = np.ascontiguousarray(np.load(rows_path, mmap_mode="r")[start:stop])
    return index.quantizer.search(X, index.nprobe)[1].astype(np.int32)


def _search_shard(index_path: str, rows_path: str, start: int, cells: np.ndarray, k: int):
    """Top-``k`` (similarities float32, indices int32) of rows ``start:start+len(cells)``,
    re-scored exactly when the index stores its vectors in float16."""
    from faiss.contrib.ivf_tools import search_preassigned

    index = _read_index(index_path, mmap=True)
    rows = np.load(rows_path, mmap_mode="r")
    X = np.ascontiguousarray(rows[start : start + len(cells)])
    sims, idx = search_preassigned(index, X, ivf.candidates(index, k), cells.astype(np.int64))
    if ivf.approximate(index):
        sims, idx = ivf.rescore(rows, X, idx, k)
    return sims.astype(np.float32), idx.astype(np.int32)


def _refine_shard(rows_path: str, table_path: str, start: int, stop: int):
    """One round of neighbour-of-neighbour refinement of rows ``start:stop`` (int32 indices)."""
    rows = np.load(rows_path, mmap_mode="r")
    sims, idx = ivf.refine(rows, np.load(table_path, mmap_mode="r"), start, stop)
    return sims, idx.astype(np.int32)


def _placement(scratch: str | Path | None) -> dict:
    """Ray task options: anywhere when ``scratch`` is shared by the nodes, else on this node."""
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    if scratch:
        return {}
    return {
        "scheduling_strategy": NodeAffinitySchedulingStrategy(
            ray.get_runtime_context().get_node_id(), soft=False
        )
    }


def _gather(tasks: dict, place) -> None:
    """Wait for Ray ``tasks`` ({ref: start}) and ``place(start, result)`` each as it finishes."""
    import ray

    pending = list(tasks)
    while pending:
        done, pending = ray.wait(pending, num_returns=1)
        place(tasks[done[0]], ray.get(done[0]))


def sharded_ivf_search(
    X: np.ndarray,
    k: int,
    *,
    seed: int = 0,
    probes: int | None = None,
    scratch: str | Path | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` inner products (float32) and indices (int32) of every row of ``X`` among ``X``.

    ``probes``: cells searched per row (None: :data:`raypipe.cluster.ivf.IVF_PROBES`; all the
    cells: exact). Ray must be initialised (:func:`raypipe.ray_session.ensure_ray`); ``scratch``
    holds the index and, when ``X`` is not a ``.npy`` memmap, a copy of it (None: a temp folder).
    """
    import faiss
    import ray
    from faiss.contrib.ivf_tools import add_preassigned

    n = len(X)
    scratch = scratch or os.environ.get("RAYPIPE_SCRATCH")
    with tempfile.TemporaryDirectory(prefix="raypipe-knn-", dir=scratch) as folder:
        rows_path = str(embeddings_file(X, Path(folder)))
        if not isinstance(X, np.memmap) or str(X.filename) != rows_path:  # not mapped twice
            X = np.load(rows_path, mmap_mode="r")
        index = ivf_index(X, seed)
        index.nprobe = min(probes or index.nprobe, index.nlist)
        index_path = str(Path(folder) / "ivf.index")
        faiss.write_index(index, index_path)
        bounds = range(0, n, SHARD_ROWS)
        options = _placement(scratch)
        assign, search = (
            ray.remote(_assign_shard).options(**options),
            ray.remote(_search_shard).options(**options),
        )
        cells = np.empty((n, index.nprobe), np.int32)
        log.info("k-NN: %d rows, %d cells, %d shards", n, index.nlist, len(bounds))

        def put_cells(start, found):
            cells[start : start + len(found)] = found

        _gather(
            {assign.remote(index_path, rows_path, s, min(s + SHARD_ROWS, n)): s for s in bounds},
            put_cells,
        )
        log.info("k-NN: rows assigned to their cells")
        for start in range(0, n, ADD_BLOCK):
            block = np.ascontiguousarray(X[start : start + ADD_BLOCK])
            ids = np.arange(start, start + len(block), dtype=np.int64)
            add_preassigned(
                index, block, cells[start : start + len(block), 0].astype(np.int64), ids
            )
        faiss.write_index(index, index_path)
        del index  # the lists now live in the file, memory-mapped by the search tasks
        log.info("k-NN: index of %d rows written", n)
        sims = np.empty((n, k), np.float32)
        idx = np.empty((n, k), np.int32)

        def put_neighbours(start, found):
            sims[start : start + len(found[0])], idx[start : start + len(found[0])] = found

        refs = {
            search.remote(index_path, rows_path, s, cells[s : s + SHARD_ROWS], k): s for s in bounds
        }
        _gather(refs, put_neighbours)
        refine = ray.remote(_refine_shard).options(**options)
        for round_ in range(ivf.REFINE_ROUNDS):
            table_path = Path(folder) / f"neighbours-{round_}.npy"
            np.save(table_path, idx)  # the tasks read the table before this round
            refs = {
                refine.remote(rows_path, str(table_path), s, min(s + SHARD_ROWS, n)): s
                for s in bounds
            }
            _gather(refs, put_neighbours)
            log.info("k-NN: refinement round %d done", round_ + 1)
    return sims, idx
