"""Turn what a user names (folders, globs, list files, cloud prefixes) into a sorted list of URIs."""

from __future__ import annotations

import glob
import logging
import os
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
    """List every image named by ``specs``, recursively for folders and prefixes.

    A spec is a local folder, a local file, a glob (``photos/**/*.jpg``), a text file of paths or
    URIs (one per line, ``#`` comments), or a cloud URI (``s3://bucket/prefix``,
    ``gs://...``) read through :mod:`raypipe.storage`. Files found in folders whose extension is
    not an image type are reported in ``skipped``, never silently dropped.
    """
    listing = InputListing()
    accepted = IMAGE_EXTENSIONS | (ARCHIVE_EXTENSIONS if accept_archives else frozenset())
    for spec in specs:
        for uri in _expand(spec):
            if extension(uri) in accepted:
                listing.images.append(uri)
            else:
                listing.skipped.append((uri, f"not a supported image type ({extension(uri) or 'no extension'})"))
    listing.images = sorted(dict.fromkeys(listing.images))
    if not listing.images and not listing.skipped:
        raise FileNotFoundError(f"no input files found in {specs}")
    return listing


def _expand(spec: str) -> list[str]:
    if storage.is_remote(spec):
        return _expand_remote(spec)
    if any(ch in spec for ch in "*?["):
        return [p for p in glob.glob(spec, recursive=True) if os.path.isfile(p)]
    path = Path(spec.removeprefix("file://"))
    if path.is_dir():
        return [
            str(p)
            for p in path.rglob("*")
            if _is_listed_file(p) and not any(part.startswith(".") for part in p.relative_to(path).parts)
        ]
    if path.is_file() and path.suffix.lower() in LIST_FILE_EXTENSIONS:
        return _read_list_file(path)
    if path.is_file():
        return [str(path)]
    raise FileNotFoundError(f"input {spec!r} does not exist")


def _is_listed_file(path: Path) -> bool:
    """Regular files, and symlinks that lead to no folder (broken or looping: listed, so that
    reading them records why they failed rather than dropping them unseen)."""
    return path.is_file() or (path.is_symlink() and not path.is_dir())


def _read_list_file(path: Path) -> list[str]:
    base = path.parent
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        entries.append(line if storage.is_remote(line) or os.path.isabs(line) else str(base / line))
    return entries


def _expand_remote(uri: str) -> list[str]:
    fs, root = storage.resolve(uri)
    if fs.isfile(root):
        return [uri]
    if not fs.isdir(root):
        raise FileNotFoundError(f"input {uri!r} does not exist")
    return [fs.unstrip_protocol(path) for path in fs.find(root)]
