"""Turn what a user names (folders, globs, list files, cloud prefixes) into URIs, streamed or as a sorted list."""

from __future__ import annotations

import glob
import itertools
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from raypipe import storage

log = logging.getLogger(__name__)

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif"})
ARCHIVE_EXTENSIONS = frozenset({".cbz", ".zip"})
LIST_FILE_EXTENSIONS = frozenset({".txt", ".lst"})


@dataclass
class InputListing:
    """Images to process, and files that were seen but are not images (with the reason)."""

    images: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


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


def first_images(specs: list[str], count: int) -> list[str]:
    """The first ``count`` images named by ``specs`` in listing order (a sample that never lists
    everything)."""
    return list(itertools.islice((uri for uri, reason in iter_inputs(specs) if not reason), count))


def iter_inputs(specs: list[str], accept_archives: bool = False) -> Iterator[tuple[str, str]]:
    """Yield ``(uri, skip reason)`` for every file named by ``specs``, one at a time, in a
    stable order (folders walked with sorted entries); the reason is empty for an image.

    A spec is a local folder, a local file, a glob (``photos/**/*.jpg``), a text file of paths or
    URIs (one per line, ``#`` comments), or a cloud URI (``s3://bucket/prefix``,
    ``gs://...``) read through :mod:`raypipe.storage`. Files found in folders whose extension is
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
    if storage.is_remote(spec):
        return _expand_remote(spec)
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
    """Files under ``root`` (hidden files and folders left out), folder by folder, sorted.
    Symlinks that lead to no folder (broken or looping) are listed too, so that reading them
    records why they failed rather than dropping them unseen."""
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        yield from (os.path.join(folder, f) for f in sorted(files) if not f.startswith("."))


def _read_list_file(path: Path) -> Iterator[str]:
    base = path.parent
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            line = line.strip()
            if line and not line.startswith("#"):
                yield line if storage.is_remote(line) or os.path.isabs(line) else str(base / line)


def _expand_remote(uri: str) -> Iterator[str]:
    fs, root = storage.resolve(uri)
    if fs.isfile(root):
        return iter([uri])
    if not fs.isdir(root):
        raise FileNotFoundError(f"input {uri!r} does not exist")
    return _walk_remote(fs, root)


def _walk_remote(fs, root: str) -> Iterator[str]:
    """Objects under a bucket prefix, folder by folder, sorted, as :func:`_walk` lists a local
    folder: one folder's listing is held at a time, never the whole bucket's."""
    for folder, dirs, files in fs.walk(root):
        dirs[:] = sorted(dirs)
        yield from (fs.unstrip_protocol(f"{folder}/{name}") for name in sorted(files))
