"""Inputs streamed into shards: list files on storage, never one Python object per input kept.

The inputs are walked once, in a stable order, and cut into shards: ``shard_size`` images at
first, doubling every ``SHARDS_PER_SIZE`` shards up to ``max_shard_size`` (:func:`shard_sizes`).
Each shard's images go to a list file ``_shards/inputs/<key>.parquet`` (image_path, image_id)
that the worker processing the shard reads; the driver keeps one key per shard. A key is the
shard's position and a digest of its images (``000012-9f3a61c2``): the same inputs give the
same keys, so a rerun finds the shards it already finished, and a shard whose images changed
gets a new key. Files that are not images become error rows, written as they are found.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice

import pyarrow as pa

from raypipe import storage
from raypipe.comic.archives import expand_archives
from raypipe.ids import image_id
from raypipe.io.inputs import LIST_FILE_EXTENSIONS, extension, iter_inputs
from raypipe.layout import RunLayout

LIST_SCHEMA = pa.schema([("image_path", pa.string()), ("image_id", pa.string())])
#: Name prefix of the error files of inputs that are not images (``errors.parquet/input-*.parquet``).
SKIPPED_PREFIX = "input-"
SKIPPED_PER_FILE = 10_000
#: Shards of each size before the size doubles.
SHARDS_PER_SIZE = 8


@dataclass
class ShardListing:
    """Keys of the shards, in input order, and the number of images and of skipped files."""

    keys: list[str] = field(default_factory=list)
    images: int = 0
    skipped: int = 0


def list_file(layout: RunLayout, key: str):
    return layout.shards / "inputs" / f"{key}.parquet"


def read_list_file(layout: RunLayout, key: str) -> pa.Table:
    return storage.read_table(list_file(layout, key))


def shard_sizes(first: int, largest: int) -> Iterator[int]:
    """Images per shard, shard after shard: ``first``, doubled every :data:`SHARDS_PER_SIZE`
    shards, never above ``largest`` (nor below ``first``)."""
    index = 0
    while True:
        yield min(first << (index // SHARDS_PER_SIZE), max(first, largest))
        index += 1


def list_shards(specs: list[str], layout: RunLayout, shard_size: int, accept_archives: bool,
                max_shard_size: int | None = None) -> ShardListing:  # fmt: skip
    """Stream the inputs of ``specs`` into list files (kept when already there) and the
    skipped files into error files; return the shard keys.

    Duplicates are dropped (see :class:`_Seen`). ``max_shard_size`` None: every shard holds
    ``shard_size`` images.
    """
    from raypipe.pipeline.shards import ERRORS_SCHEMA, write_table_part

    listing = ShardListing()
    skipped: list[dict] = []
    for old in layout.errors.glob(f"{SKIPPED_PREFIX}*.parquet") if layout.errors.exists() else []:
        old.unlink()

    def flush_skipped() -> None:
        write_table_part(layout, "errors", f"{SKIPPED_PREFIX}{listing.skipped // SKIPPED_PER_FILE:06d}",
                         pa.Table.from_pylist(skipped, schema=ERRORS_SCHEMA))  # fmt: skip
        listing.skipped += len(skipped)
        skipped.clear()

    images = _images(specs, accept_archives, skipped, flush_skipped)
    sizes = shard_sizes(shard_size, max_shard_size or shard_size)
    for index, pairs in enumerate(_chunks(images, sizes)):
        chunk, ids = [uri for uri, _ in pairs], [id_ for _, id_ in pairs]
        key = f"{index:06d}-{hashlib.sha1(''.join(ids).encode()).hexdigest()[:8]}"
        path = list_file(layout, key)
        if not path.exists():
            storage.write_table(path, pa.table({"image_path": chunk, "image_id": ids}, schema=LIST_SCHEMA))
        listing.keys.append(key)
        listing.images += len(chunk)
    if skipped:
        flush_skipped()
    _remove_stale_lists(layout, set(listing.keys))
    return listing


def _images(specs: list[str], accept_archives: bool, skipped: list[dict], flush) -> Iterator[tuple[str, str]]:
    """``(uri, image id)`` of the images (archive pages expanded); skipped files appended to ``skipped``."""
    seen = _Seen() if len(specs) > 1 or any(extension(s) in LIST_FILE_EXTENSIONS for s in specs) else None
    for uri, reason in iter_inputs(specs, accept_archives):
        if len(skipped) >= SKIPPED_PER_FILE:
            flush()
        if reason:
            skipped.append({"image_path": uri, "stage": "input", "reason": reason})
            continue
        try:
            pages, refused = expand_archives([uri]) if accept_archives else ([uri], [])
        except Exception as err:  # noqa: BLE001 - an unreadable archive is that input's error
            skipped.append({"image_path": uri, "stage": "read", "reason": f"{type(err).__name__}: {err}"})
            continue
        skipped.extend({"image_path": page, "stage": "read", "reason": why} for page, why in refused)
        for page in pages:
            id_ = image_id(page)
            if seen is None or seen.first(id_):
                yield page, id_


class _Seen:
    """Inputs met so far, as 64-bit digests: the one per-input structure on the driver, kept
    only when several specs or a list file may name one file twice (a folder walk cannot)."""

    def __init__(self):
        self._digests: set[int] = set()

    def first(self, id_: str) -> bool:
        """Whether the image of id ``id_`` is met for the first time."""
        digest = int(id_, 16)
        if digest in self._digests:
            return False
        self._digests.add(digest)
        return True


def _chunks(items: Iterable, sizes: Iterator[int]) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(islice(iterator, next(sizes))):
        yield chunk


def _remove_stale_lists(layout: RunLayout, keys: set[str]) -> None:
    for path in (layout.shards / "inputs").glob("*.parquet"):
        if path.name.removesuffix(".parquet") not in keys:
            path.unlink()
