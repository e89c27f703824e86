"""Resolve ``detector: auto`` for the domain, saying which detector and why.

Photos: the RFB detector with its 68-point landmarks when ``fr_detect.onnx`` and
``fr_landmark.onnx`` are under the model root (faster than dlib-hog and finds the small faces of
group photos, see bench/detectors.py), else dlib-hog. Comic pages: the anime cascade found under
the model root, or a usage error saying where to put it.
"""

from __future__ import annotations

import logging
from typing import Any

from raypipe.errors import UsageError
from raypipe.models import find_model, model_root
from raypipe.registry import split_spec

log = logging.getLogger(__name__)

PHOTO_FALLBACK = "dlib-hog"
RFB_FILES = ("fr_detect.onnx", "fr_landmark.onnx")
ANIME_CASCADE_FILE = "lbpcascade_animeface.xml"


def resolve_detector(
    spec: dict[str, Any], domain: str, configured_root: str | None
) -> dict[str, Any]:
    """``spec`` itself unless it is ``auto``; then the detector for ``domain`` (see above)."""
    name, params = split_spec(spec)
    if name != "auto":
        return {"name": name, **params}
    root = model_root(configured_root)
    if domain == "comic":
        cascade = find_model(ANIME_CASCADE_FILE, str(root))
        if cascade is None:
            raise UsageError(
                f"comic pages need a drawn-face detector: put {ANIME_CASCADE_FILE} (nagadomi/lbpcascade_animeface) "
                f"under the model root {root}, or set extract.detector={{name: anime-cascade, cascade_path: PATH}}"
            )
        log.info("detector: anime-cascade (comic pages; %s)", cascade)
        return {"name": "anime-cascade", "cascade_path": str(cascade), **params}
    detect, landmarks = (find_model(file, str(root)) for file in RFB_FILES)
    if detect is not None and landmarks is not None:
        log.info(
            "detector: rfb with 68-point landmarks (%s, %s under the model root)", detect, landmarks
        )
        return {"name": "rfb", "model_path": str(detect), "landmark_path": str(landmarks), **params}
    log.info("detector: %s (no %s under the model root %s; `raypipe models fetch` gets them)",
             PHOTO_FALLBACK, " and ".join(RFB_FILES), root)  # fmt: skip
    return {"name": PHOTO_FALLBACK, **params}
