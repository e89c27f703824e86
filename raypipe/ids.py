"""Stable identifiers and safe file names derived from inputs."""

from __future__ import annotations

import hashlib
import re
import unicodedata


def image_id(uri: str) -> str:
    """16 hex digits of the SHA-1 of the source URI: stable across runs and machines."""
    return hashlib.sha1(uri.encode("utf-8")).hexdigest()[:16]


def face_id(image_id_: str, index: int) -> str:
    """Id of the ``index``-th face of an image (faces sorted by detector score)."""
    return f"{image_id_}_{index:03d}"


#: ``panel_index`` of a face found on a comic page outside every found panel (photos' faces: -1).
OUTSIDE_PANELS = -2


def panel_id(image_id_: str, panel_index: int) -> str:
    """Id of a comic page's ``panel_index``-th panel (reading order): the key of its crop."""
    return f"{image_id_}_{panel_index:03d}"


_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]+")


def safe_stem(name: str, max_len: int = 80) -> str:
    """A file-name stem that cannot leave its folder: no separators, dots-only or control chars.

    >>> safe_stem("../../etc/passwd")
    'passwd'
    >>> safe_stem("photo of Zoë.JPG")
    'photo of Zoë'
    """
    base = re.split(r"[/\\]", name)[-1]
    stem = base.rsplit(".", 1)[0] if "." in base.strip(".") else base
    stem = _UNSAFE.sub("_", unicodedata.normalize("NFC", stem)).strip(" .")
    return stem[:max_len] or "image"
