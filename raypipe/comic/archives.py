"""CBZ / ZIP comic archives: image entries in reading order, read one page at a time.

A page inside an archive is named ``<archive path>!<entry name>`` (see :func:`page_id`). Entry
names come from the archive's author, so they are never used as output paths: outputs are named
from hashed ids (:mod:`raypipe.ids`). Entries that are not read (absolute or climbing out with
``..``, encrypted, archives inside the archive, too large, not images, repeated names) and
archives that cannot be opened are returned with the reason, so that the run records them.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager

from raypipe.io.decode import DecodeError
from raypipe.io.inputs import ARCHIVE_EXTENSIONS, IMAGE_EXTENSIONS, extension
from raypipe.storage import open_input, read_bytes

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


def _is_listed(info: zipfile.ZipInfo) -> bool:
    """False for folders, hidden files and macOS resource forks (archive furniture, not content)."""
    hidden = posixpath.basename(info.filename).startswith(".") or info.filename.startswith(
        "__MACOSX/"
    )
    return not info.is_dir() and not hidden


def _refusal(info: zipfile.ZipInfo, seen: set[str]) -> str | None:
    """Why entry ``info`` is not read as a page, or None when it is a page."""
    kind = extension(info.filename)
    if not is_safe_entry(info.filename):
        return "unsafe entry name (absolute or climbing out with ..): not read"
    if info.filename in seen:
        return "entry name repeated in the archive: one entry of this name is read"
    if info.flag_bits & 0x1:
        return "encrypted entry: not read"
    if kind in ARCHIVE_EXTENSIONS:
        return "archive inside an archive: not opened"
    if kind not in IMAGE_EXTENSIONS:
        return f"not a supported image type ({kind or 'no extension'})"
    if info.file_size > MAX_PAGE_BYTES:
        return f"page too large: {info.file_size} bytes uncompressed, over {MAX_PAGE_BYTES}"
    return None


def scan_archive(path: str) -> tuple[list[str], list[tuple[str, str]]]:
    """``(pages, refused)`` of archive ``path``: the page entries in reading order (natural
    sort), and ``(entry, reason)`` of every other entry but folders and hidden files."""
    pages, refused, seen = [], [], set()
    with _open_zip(path) as archive:
        for info in filter(_is_listed, archive.infolist()):
            reason = _refusal(info, seen)
            seen.add(info.filename)
            if reason is None:
                pages.append(info.filename)
            else:
                refused.append((info.filename, reason))
    return sorted(pages, key=natural_key), refused


def read_archive_page(path: str, entry: str) -> bytes:
    """Uncompressed bytes of ``entry`` in archive ``path`` (at most :data:`MAX_PAGE_BYTES`).

    Raises :class:`DecodeError` for an entry that is too large, encrypted or damaged.
    """
    with _open_zip(path) as archive:
        info = archive.getinfo(entry)
        if info.file_size > MAX_PAGE_BYTES:
            raise DecodeError(
                f"page too large: {info.file_size} bytes uncompressed, over {MAX_PAGE_BYTES}"
            )
        try:
            return archive.read(info)
        except (zipfile.BadZipFile, RuntimeError, NotImplementedError, EOFError) as err:
            raise DecodeError(f"unreadable archive entry ({type(err).__name__}: {err})") from None


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


def expand_archives(paths: list[str]) -> tuple[list[str], list[tuple[str, str]]]:
    """``(inputs, refused)``: ``paths`` with every archive replaced by the page ids of its pages
    in reading order, and ``(id, reason)`` of the entries not read and archives not opened."""
    expanded, refused = [], []
    for path in paths:
        if not is_archive(path):
            expanded.append(path)
            continue
        try:
            pages, entries = scan_archive(path)
        except (zipfile.BadZipFile, OSError, EOFError) as err:
            refused.append((path, f"not a readable archive ({type(err).__name__}: {err})"))
            continue
        expanded.extend(page_id(path, entry) for entry in pages)
        refused.extend((page_id(path, entry), reason) for entry, reason in entries)
    return expanded, refused


@contextmanager
def _open_zip(path: str) -> Iterator[zipfile.ZipFile]:
    with open_input(path) as handle, zipfile.ZipFile(handle) as archive:
        yield archive
