"""CBZ / ZIP comic archives: image entries in reading order, read one page at a time.

A page inside an archive is named ``<archive path>!<entry name>`` (see :func:`page_id`). Entry
names come from the archive's author, so they are never used as output paths: outputs are named
from hashed ids (:mod:`raypipe.ids`), and entries that are absolute or climb out with ``..``
are refused outright.
"""

from __future__ import annotations

import logging
import posixpath
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager

from raypipe.io.inputs import ARCHIVE_EXTENSIONS, IMAGE_EXTENSIONS, extension
from raypipe.storage import open_input, read_bytes

log = logging.getLogger(__name__)

#: Separator between an archive's path and an entry name in a page id.
PAGE_SEPARATOR = "!"
#: Largest uncompressed page read from an archive (guards against zip bombs).
MAX_PAGE_BYTES = 256 * 1024 * 1024

_DIGITS = re.compile(r"(\d+)")


def is_archive(path: str) -> bool:
    """True when ``path`` names a comic archive (``.cbz`` or ``.zip``) rather than a page."""
    return PAGE_SEPARATOR not in path and extension(path) in ARCHIVE_EXTENSIONS


def natural_key(name: str) -> tuple:
    """Sort key that orders ``page2`` before ``page10`` (digit runs compare as numbers).

    >>> sorted(["p10.jpg", "p2.jpg", "P1.jpg"], key=natural_key)
    ['P1.jpg', 'p2.jpg', 'p10.jpg']
    """
    parts = _DIGITS.split(name.casefold())
    return tuple((0, int(part), part) if part.isdigit() else (1, 0, part) for part in parts)


def is_safe_entry(name: str) -> bool:
    """False for entry names that are absolute, have a drive, or climb out with ``..``."""
    normalised = name.replace("\\", "/")
    if normalised.startswith("/") or re.match(r"^[A-Za-z]:", normalised):
        return False
    return ".." not in posixpath.normpath(normalised).split("/")


def _is_page(info: zipfile.ZipInfo) -> bool:
    base = posixpath.basename(info.filename)
    hidden = base.startswith(".") or info.filename.startswith("__MACOSX/")
    return not info.is_dir() and not hidden and extension(info.filename) in IMAGE_EXTENSIONS


def list_archive_pages(path: str) -> list[str]:
    """Entry names of the page images of archive ``path``, in reading order (natural sort).

    Folders, non-image entries, macOS resource forks and unsafe names are left out; unsafe
    names are logged.
    """
    with _open_zip(path) as archive:
        pages = []
        for info in archive.infolist():
            if not _is_page(info):
                continue
            if not is_safe_entry(info.filename):
                log.warning("skipping unsafe entry %r in %s", info.filename, path)
                continue
            pages.append(info.filename)
    return sorted(pages, key=natural_key)


def read_archive_page(path: str, entry: str) -> bytes:
    """Uncompressed bytes of ``entry`` in archive ``path`` (at most :data:`MAX_PAGE_BYTES`)."""
    with _open_zip(path) as archive:
        info = archive.getinfo(entry)
        if info.file_size > MAX_PAGE_BYTES:
            raise ValueError(
                f"{entry!r} in {path} is {info.file_size} bytes uncompressed, over {MAX_PAGE_BYTES}"
            )
        return archive.read(info)


def page_id(archive_path: str, entry: str) -> str:
    """The page id of ``entry`` in ``archive_path``: ``archive!entry``."""
    return f"{archive_path}{PAGE_SEPARATOR}{entry}"


def split_page_id(page: str) -> tuple[str, str | None]:
    """``(archive path, entry)`` of an archive page id, ``(path, None)`` for a plain image path."""
    archive_path, separator, entry = page.rpartition(PAGE_SEPARATOR)
    if separator and is_archive(archive_path):
        return archive_path, entry
    return page, None


def read_page(page: str) -> bytes:
    """Bytes of a page id: an entry of an archive, or a plain image file or URI."""
    archive_path, entry = split_page_id(page)
    return read_bytes(page) if entry is None else read_archive_page(archive_path, entry)


def expand_archives(paths: list[str]) -> list[str]:
    """``paths`` with every archive replaced by the page ids of its pages, in reading order."""
    expanded = []
    for path in paths:
        if is_archive(path):
            expanded.extend(page_id(path, entry) for entry in list_archive_pages(path))
        else:
            expanded.append(path)
    return expanded


@contextmanager
def _open_zip(path: str) -> Iterator[zipfile.ZipFile]:
    with open_input(path) as handle, zipfile.ZipFile(handle) as archive:
        yield archive
