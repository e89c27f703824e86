"""Run folders on a local disk or in object storage (``s3://``, ``gs://``, ``file://``, fsspec).

A run root named by a URI becomes a :class:`StoragePath`: the slice of :class:`pathlib.Path` the
run layout uses (``/``, ``name``, ``parent``, ``exists``, ``read_*``, ``write_*``, ``glob``,
``mkdir``, ``unlink``) over a pyarrow file system, so the pipeline writes a cluster run straight
to a bucket and no step assumes a disk shared by the nodes. Plain local paths stay
:class:`pathlib.Path` and behave exactly as before. Schemes pyarrow lacks (``memory://`` ...)
go through fsspec.
"""

from __future__ import annotations

import fnmatch
import functools
import os
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

#: Schemes pyarrow's own file systems serve; the path inside them starts with the bucket.
PYARROW_SCHEMES = frozenset({"s3", "gs", "gcs", "hdfs", "abfs", "abfss"})


def is_uri(location: str | os.PathLike) -> bool:
    return "://" in str(location)


def location(root: str | os.PathLike) -> Path | StoragePath:
    """A :class:`StoragePath` for a URI (``file://`` included), else a local :class:`Path`."""
    if isinstance(root, (Path, StoragePath)):
        return root
    return StoragePath(str(root)) if is_uri(root) else Path(root)


@functools.cache
def _filesystem(scheme: str, bucket: str) -> pafs.FileSystem:
    if scheme == "file":
        return pafs.LocalFileSystem()
    if scheme in PYARROW_SCHEMES:
        return pafs.FileSystem.from_uri(f"{scheme}://{bucket}")[0]
    import fsspec

    return pafs.PyFileSystem(pafs.FSSpecHandler(fsspec.filesystem(scheme)))


def resolve(uri: str) -> tuple[pafs.FileSystem, str]:
    """The file system serving ``uri`` (cached per bucket) and the path inside it."""
    scheme, rest = uri.split("://", 1)
    fs = _filesystem(scheme, rest.split("/", 1)[0] if scheme in PYARROW_SCHEMES else "")
    return fs, rest if scheme in PYARROW_SCHEMES or scheme == "file" else f"/{rest.lstrip('/')}"


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

    def _info(self) -> pafs.FileInfo:
        return self.fs.get_file_info(self.path)

    def exists(self) -> bool:
        return self._info().type != pafs.FileType.NotFound

    def is_file(self) -> bool:
        return self._info().type == pafs.FileType.File

    def is_dir(self) -> bool:
        return self._info().type == pafs.FileType.Directory

    def read_bytes(self) -> bytes:
        with self.fs.open_input_stream(self.path) as stream:
            return stream.read()

    def read_text(self, encoding: str = "utf-8") -> str:
        return self.read_bytes().decode(encoding)

    def write_bytes(self, data: bytes) -> None:
        """One upload: on object stores the object appears whole when the stream closes."""
        self.parent.mkdir(parents=True, exist_ok=True)
        with self.fs.open_output_stream(self.path) as stream:
            stream.write(data)

    def write_text(self, text: str, encoding: str = "utf-8") -> None:
        self.write_bytes(text.encode(encoding))

    def mkdir(self, parents: bool = False, exist_ok: bool = False) -> None:
        if self.exists() and not exist_ok:
            raise FileExistsError(self.uri)
        self.fs.create_dir(self.path, recursive=parents)

    def unlink(self, missing_ok: bool = False) -> None:
        if missing_ok and not self.exists():
            return
        self.fs.delete_file(self.path)

    def iterdir(self) -> list[StoragePath]:
        if not self.is_dir():
            return []
        infos = self.fs.get_file_info(pafs.FileSelector(self.path, recursive=False))
        return [self / info.base_name for info in infos]

    def glob(self, pattern: str) -> list[StoragePath]:
        """Entries directly in this folder whose name matches ``pattern`` (no ``**``)."""
        return sorted(p for p in self.iterdir() if fnmatch.fnmatch(p.name, pattern))


def write_atomic(path: Path | StoragePath, data: bytes) -> None:
    """Write ``data`` so that readers see the old file or the whole new one, never a part.

    Local files (plain paths and ``file://``) are written beside the target and renamed over
    it; an object store's single upload is already all-or-nothing.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    if isinstance(path, StoragePath):
        if isinstance(path.fs, pafs.LocalFileSystem):
            tmp.write_bytes(data)
            path.fs.move(tmp.path, path.path)
        else:
            path.write_bytes(data)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp.write_bytes(data)
    os.replace(tmp, path)


def write_table(path: Path | StoragePath, table: pa.Table) -> None:
    """A parquet file written atomically (see :func:`write_atomic`)."""
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    write_atomic(path, sink.getvalue().to_pybytes())


def read_table(path: Path | StoragePath, columns: list[str] | None = None) -> pa.Table:
    if isinstance(path, StoragePath):
        return pq.read_table(path.path, columns=columns, filesystem=path.fs)
    return pq.read_table(path, columns=columns)


def copy_file(source: Path | StoragePath, target: Path | StoragePath) -> None:
    if isinstance(source, Path) and isinstance(target, Path):
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    else:
        write_atomic(target, source.read_bytes())


def remove_tree(path: Path | StoragePath) -> None:
    """Delete a folder and everything in it; nothing happens when it does not exist."""
    if isinstance(path, StoragePath):
        if path.is_dir():
            path.fs.delete_dir(path.path)
    elif path.exists():
        shutil.rmtree(path)
