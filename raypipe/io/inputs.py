"""Turn what a user names (folders, globs, list files, cloud prefixes) into URIs, streamed or as a sorted list."""

from __future__ import annotations

import glob
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.fs as pafs

log = logging.getLogger(__name__)

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif"})
ARCHIVE_EXTENSIONS = frozenset({".cbz", ".zip"})
LIST_FILE_EXTENSIONS = frozenset({".txt", ".lst"})


@dataclass
class InputListing:
    """Images to process, and files that were seen but are not images (with the reason)."""

    images: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def is_remote(uri: str) -> bool:
    return "://" in uri and not uri.startswith("file://")


def extension(uri: str) -> str:
    return os.path.splitext(uri.rsplit("!", 1)[-1])[1].lower()


def list_inputs(specs: list[str], accept_archives: bool = False) -> InputListing:
    """Every image named by ``specs`` as one sorted list (see :func:`iter_inputs`): for small
    inputs and tools; extraction streams :func:`iter_inputs` instead."""
    listing = InputListing()
    for uri, reason in iter_inputs(specs, accept_archives):
        if reason:
            listing.skipped.append((uri, reason))
        else:
            listing.images.append(uri)
    listing.images = sorted(dict.fromkeys(listing.images))
    return listing


def iter_inputs(specs: list[str], accept_archives: bool = False) -> Iterator[tuple[str, str]]:
    """Yield ``(uri, skip reason)`` for every file named by ``specs``, one at a time, in a
    stable order (folders walked with sorted entries); the reason is empty for an image.

    A spec is a local folder, a local file, a glob (``photos/**/*.jpg``), a text file of paths or
    URIs (one per line, ``#`` comments), or a cloud URI (``s3://bucket/prefix``,
    ``gs://...``) read through pyarrow's file systems. Files found in folders whose extension is
    not an image type come with a reason, never silently dropped. Raises FileNotFoundError when
    the specs name nothing.
    """
    accepted = IMAGE_EXTENSIONS | (ARCHIVE_EXTENSIONS if accept_archives else frozenset())
    found = False
    for spec in specs:
        for uri in _expand(spec):
            found = True
            ext = extension(uri)
            yield uri, "" if ext in accepted else f"not a supported image type ({ext or 'no extension'})"
    if not found:
        raise FileNotFoundError(f"no input files found in {specs}")


def _expand(spec: str) -> Iterator[str]:
    if is_remote(spec):
        return iter(_expand_remote(spec))
    if any(ch in spec for ch in "*?["):
        return (p for p in sorted(glob.glob(spec, recursive=True)) if os.path.isfile(p))
    path = Path(spec.removeprefix("file://"))
    if path.is_dir():
        return _walk(path)
    if path.is_file() and path.suffix.lower() in LIST_FILE_EXTENSIONS:
        return _read_list_file(path)
    if path.is_file():
        return iter([str(path)])
    raise FileNotFoundError(f"input {spec!r} does not exist")


def _walk(root: Path) -> Iterator[str]:
    """Files under ``root`` (hidden files and folders left out), folder by folder, sorted."""
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        yield from (os.path.join(folder, f) for f in sorted(files) if not f.startswith("."))


def _read_list_file(path: Path) -> Iterator[str]:
    base = path.parent
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            line = line.strip()
            if line and not line.startswith("#"):
                yield line if is_remote(line) or os.path.isabs(line) else str(base / line)


def _expand_remote(uri: str) -> list[str]:
    fs, root = pafs.FileSystem.from_uri(uri)
    scheme = uri.split("://", 1)[0]
    info = fs.get_file_info(root)
    if info.type == pafs.FileType.File:
        return [uri]
    if info.type == pafs.FileType.NotFound:
        raise FileNotFoundError(f"input {uri!r} does not exist")
    selector = pafs.FileSelector(root, recursive=True)
    return [f"{scheme}://{f.path}" for f in fs.get_file_info(selector) if f.type == pafs.FileType.File]


def read_bytes(uri: str) -> bytes:
    """Bytes of a local path or a URI that pyarrow's file systems understand."""
    if is_remote(uri):
        fs, path = pafs.FileSystem.from_uri(uri)
        with fs.open_input_stream(path) as stream:
            return stream.read()
    with open(uri.removeprefix("file://"), "rb") as handle:
        return handle.read()
