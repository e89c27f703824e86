"""The model weights raypipe ships inside the package (``raypipe/*/weights/*``: the drawn-face
detector, its verifier, the drawn-face identity head and projection, the page model).

A run folder records their digest when its extraction uses them, so that a run resumed after
they changed (raypipe upgraded between a killed run and its rerun) is refused instead of mixing
faces embedded by two heads (:func:`raypipe.pipeline.extract.extract`)."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]


@cache
def shipped_weights_digest(package: Path = PACKAGE) -> str:
    """One digest of the names and bytes of every weight file under ``package``'s ``*/weights``."""
    digest = hashlib.sha256()
    for path in sorted(package.glob("*/weights/*")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
