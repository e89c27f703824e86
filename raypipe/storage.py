"""One storage layer, on fsspec, for inputs, run folders, tracking artifacts and the report.

A location is a local :class:`pathlib.Path` (plain paths and ``file://`` URIs: path-like, so any
library can open it) or a :class:`StoragePath` for everything else fsspec serves (``s3://``,
``gs://``, ``memory://`` ...): the slice of pathlib's API the run layout uses (``/``, ``name``,
``parent``, ``exists``, ``read_*``, ``write_*``, ``glob``, ``mkdir``, ``unlink``,
``relative_to``), so a cluster run writes straight to a bucket and no step assumes a disk
shared by the nodes. Credentials and endpoints come from the usual environment
(``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID`` ...) of every node.
"""

from __future__ import annotations

import fnmatch
import io
import os
import shutil
from pathlib import Path, PurePosixPath
from typing import IO

import fsspec
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from fsspec import AbstractFileSystem
from fsspec.implementations.local import LocalFileSystem

LOCAL_SCHEME = "file://"


def is_uri(location: str | os.PathLike) -> bool:
    return "://" in str(location)


def is_remote(location: str | os.PathLike) -> bool:
    """A URI that is not a local ``file://`` one."""
    return is_uri(location) and not str(location).startswith(LOCAL_SCHEME)


def location(root: str | os.PathLike) -> Path | StoragePath:
    """A local :class:`Path` for plain paths and ``file://`` URIs, else a :class:`StoragePath`."""
    if isinstance(root, (Path, StoragePath)):
        return root
    root = str(root)
    return StoragePath(root) if is_remote(root) else Path(root.removeprefix(LOCAL_SCHEME))


def resolve(uri: str) -> tuple[fsspec.AbstractFileSystem, str]:
    """The file system serving ``uri`` (one instance per scheme and options) and the path in it.

    Listings are never cached: other processes (Ray workers) write the same folders.
    """
    return fsspec.core.url_to_fs(uri, use_listings_cache=False)


def read_bytes(uri: str | os.PathLike) -> bytes:
    """Bytes of a local path, a ``file://`` URI or any URI fsspec serves."""
    return location(uri).read_bytes()


def open_input(uri: str | os.PathLike) -> IO[bytes]:
    """A seekable binary handle on a local path or URI (archives read a few entries of it)."""
    path = location(uri)
    return path.fs.open(path.path, "rb") if isinstance(path, StoragePath) else open(path, "rb")


class StoragePath:
    """A file or folder named by a URI, with the part of pathlib's API run folders need."""

    def __init__(self, uri: str):
        self.uri = uri.rstrip("/") if not uri.endswith("://") else uri
        self.fs, self.path = resolve(self.uri)

    def __str__(self) -> str:
        return self.uri

    def __repr__(self) -> str:
        return f"StoragePath({self.uri!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StoragePath) and other.uri == self.uri

    def __hash__(self) -> int:
        return hash(self.uri)

    def __lt__(self, other: StoragePath) -> bool:
        return self.uri < other.uri

    def __truediv__(self, part: str) -> StoragePath:
        return StoragePath(f"{self.uri}/{str(part).strip('/')}")

    @property
    def name(self) -> str:
        return self.uri.rsplit("/", 1)[-1]

    @property
    def suffix(self) -> str:
        return os.path.splitext(self.name)[1]

    @property
    def parent(self) -> StoragePath:
        return StoragePath(self.uri.rsplit("/", 1)[0])

    def with_name(self, name: str) -> StoragePath:
        return self.parent / name

    def resolve(self) -> StoragePath:
        return self

    def relative_to(self, other: StoragePath) -> PurePosixPath:
        prefix = f"{other.uri}/"
        if not self.uri.startswith(prefix):
            raise ValueError(f"{self.uri} is not under {other.uri}")
        return PurePosixPath(self.uri.removeprefix(prefix))

    @property
    def is_local(self) -> bool:
        return isinstance(self.fs, LocalFileSystem)

    def exists(self) -> bool:
        return self.fs.exists(self.path)

    def is_file(self) -> bool:
        return self.fs.isfile(self.path)

    def is_dir(self) -> bool:
        return self.fs.isdir(self.path)

    def modified(self) -> float:
        """Last modification time, seconds since the epoch."""
        return self.fs.modified(self.path).timestamp()

    def read_bytes(self) -> bytes:
        return self.fs.cat_file(self.path)

    def read_text(self, encoding: str = "utf-8") -> str:
        return self.read_bytes().decode(encoding)

    def write_bytes(self, data: bytes) -> None:
        """One upload: on object stores the object appears whole when it is done."""
        if self.is_local:
            self.fs.makedirs(os.path.dirname(self.path), exist_ok=True)
        self.fs.pipe_file(self.path, data)

    def write_text(self, text: str, encoding: str = "utf-8") -> None:
        self.write_bytes(text.encode(encoding))

    def mkdir(self, parents: bool = False, exist_ok: bool = False) -> None:
        """A folder; object stores have none, so only the bucket is created when missing."""
        if self.exists() and not exist_ok:
            raise FileExistsError(self.uri)
        self.fs.makedirs(self.path, exist_ok=True)

    def unlink(self, missing_ok: bool = False) -> None:
        if missing_ok and not self.exists():
            return
        self.fs.rm_file(self.path)

    def iterdir(self) -> list[StoragePath]:
        if not self.is_dir():
            return []
        return [self / PurePosixPath(p.rstrip("/")).name for p in self.fs.ls(self.path, detail=False)]

    def glob(self, pattern: str) -> list[StoragePath]:
        """Entries under this folder matching ``pattern`` (``*`` within a name, one level each)."""
        found = [self]
        for part in pattern.split("/"):
            found = [c for p in found for c in p.iterdir() if fnmatch.fnmatch(c.name, part)]
        return sorted(found)


def modified(path: Path | StoragePath) -> float:
    """Last modification time of a local or stored file, seconds since the epoch."""
    return path.modified() if isinstance(path, StoragePath) else path.stat().st_mtime


def write_atomic(path: Path | StoragePath, data: bytes) -> None:
    """Write ``data`` so that readers see the old file or the whole new one, never a part.

    Local files are written beside the target and renamed over it; an object store's single
    upload is already all-or-nothing.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    if isinstance(path, StoragePath):
        if path.is_local:
            tmp.write_bytes(data)
            path.fs.mv(tmp.path, path.path)
        else:
            path.write_bytes(data)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp.write_bytes(data)
    os.replace(tmp, path)


def write_files(paths: list[Path | StoragePath], blobs: list[bytes]) -> None:
    """Many small files (panel crops, exported chips): local ones written in place (whatever
    makes them count is written after them: a shard's marker), stored ones in one upload each,
    sent concurrently by the file system (``pipe`` of many files)."""
    stored: dict[AbstractFileSystem, dict[str, bytes]] = {}
    for path, data in zip(paths, blobs):
        if isinstance(path, StoragePath) and not path.is_local:
            stored.setdefault(path.fs, {})[path.path] = data
        elif isinstance(path, StoragePath):
            path.write_bytes(data)
        else:
            if not path.parent.is_dir():
                path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "wb") as handle:
                handle.write(data)
    for fs, files in stored.items():
        fs.pipe(files)


def link(source: Path, target: Path) -> None:
    """``target`` made a symbolic link to ``source``, or a hard link where symbolic ones are not
    allowed; OSError when the file system has neither."""
    target.parent.mkdir(parents=True, exist_ok=True)
    target.unlink(missing_ok=True)
    try:
        target.symlink_to(source.resolve())
    except OSError:
        os.link(source, target)


def write_table(path: Path | StoragePath, table: pa.Table) -> None:
    """A parquet file written atomically (see :func:`write_atomic`)."""
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    write_atomic(path, sink.getvalue().to_pybytes())


def read_table(path: Path | StoragePath, columns: list[str] | None = None) -> pa.Table:
    if isinstance(path, StoragePath):
        return pq.read_table(path.path, columns=columns, filesystem=path.fs)
    return pq.read_table(path, columns=columns)


def read_csv(path: Path | StoragePath, **options) -> pd.DataFrame:
    """A CSV file (``clusters.csv``, sweep tables) of a local or remote run folder."""
    return pd.read_csv(io.StringIO(path.read_text(encoding="utf-8")), **options)


def copy_file(source: Path | StoragePath, target: Path | StoragePath) -> None:
    if isinstance(source, Path) and isinstance(target, Path):
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    else:
        write_atomic(target, source.read_bytes())


def local_copy(path: Path | StoragePath, folder: Path) -> Path:
    """``path`` itself when local, else a copy of it in ``folder`` (for tools that need a file)."""
    if isinstance(path, Path):
        return path
    copy = folder / path.name
    copy.write_bytes(path.read_bytes())
    return copy


def remove_tree(path: Path | StoragePath) -> None:
    """Delete a folder and everything in it; nothing happens when it does not exist."""
    if isinstance(path, StoragePath):
        if path.is_dir():
            path.fs.rm(path.path, recursive=True)
    elif path.exists():
        shutil.rmtree(path)


def dataset(path: Path | StoragePath, files: list[str] | None = None) -> ds.Dataset:
    """The Parquet dataset of the folder ``path``, or only its ``files`` (as the dataset's
    ``__filename`` field names them); files starting with ``.`` or ``_`` are left out."""
    filesystem = path.fs if isinstance(path, StoragePath) else None
    source = files if files is not None else (path.path if isinstance(path, StoragePath) else str(path))
    return ds.dataset(source, filesystem=filesystem, format="parquet")
