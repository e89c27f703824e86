"""Resolve the configured detector for the domain: comic pages need a drawn-face detector."""

from __future__ import annotations

import logging
from typing import Any

from raypipe.errors import UsageError
from raypipe.models import model_root
from raypipe.registry import split_spec

log = logging.getLogger(__name__)

PHOTO_DEFAULT = "dlib-hog"
ANIME_CASCADE_FILE = "lbpcascade_animeface.xml"


def resolve_detector(spec: dict[str, Any], domain: str, configured_root: str | None) -> dict[str, Any]:
    """``spec``; on comic pages the photo default becomes ``anime-cascade`` with the cascade
    file found under the model root, or a usage error saying where to put it."""
    name, params = split_spec(spec)
    if domain != "comic" or name != PHOTO_DEFAULT or params:
        return {"name": name, **params}
    root = model_root(configured_root)
    found = sorted(root.rglob(ANIME_CASCADE_FILE)) if root.is_dir() else []
    if not found:
        raise UsageError(
            f"comic pages need a drawn-face detector: put {ANIME_CASCADE_FILE} (nagadomi/lbpcascade_animeface) "
            f"under the model root {root}, or set extract.detector={{name: anime-cascade, cascade_path: PATH}}"
        )
    log.info("detector: anime-cascade (comic pages; %s)", found[0])
    return {"name": "anime-cascade", "cascade_path": str(found[0])}
