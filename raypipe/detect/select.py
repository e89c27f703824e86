"""Resolve ``detector: auto`` for the domain, saying which detector and why.

Photos: dlib-hog. The RFB detector (``--detector rfb``, its models under the model root) is 6x
faster on CPU and as accurate on the annotated group photos, but its 68-point landmarks align
faces differently from dlib's: on held-out LFW people the default clusterer, calibrated on
dlib-aligned ArcFace chips, scored BCubed F 0.952 after RFB against 0.989 after dlib-hog, so it
is not the default until the thresholds are fitted for its chips. Comic pages: the anime cascade
found under the model root, or a usage error saying where to put it.
"""

from __future__ import annotations

import inspect
import logging
from typing import Any

from raypipe.errors import UsageError
from raypipe.models import find_model, model_root
from raypipe.registry import split_spec

log = logging.getLogger(__name__)

PHOTO_DEFAULT = "dlib-hog"
ANIME_CASCADE_FILE = "lbpcascade_animeface.xml"


def resolve_detector(
    spec: dict[str, Any], domain: str, configured_root: str | None
) -> dict[str, Any]:
    """``spec`` itself unless it is ``auto``; then the detector for ``domain`` (see above)."""
    name, params = split_spec(spec)
    if name != "auto":
        return _with_model_root(name, params, configured_root)
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
    log.info(
        "detector: %s (photos; `--detector rfb` is faster, see raypipe.detect.select)",
        PHOTO_DEFAULT,
    )
    return {"name": PHOTO_DEFAULT, **params}


def _with_model_root(
    name: str, params: dict[str, Any], configured_root: str | None
) -> dict[str, Any]:
    """The spec of a named detector, given the configured model root if it looks models up there;
    a usage error when the model files it needs are missing."""
    from raypipe.detect import DETECTORS

    detector = DETECTORS.resolve(name)
    if "model_root" in inspect.signature(detector).parameters and configured_root is not None:
        params = {"model_root": configured_root, **params}
    missing = detector.missing_models(params)
    if missing:
        raise UsageError(f"detector {name}: {missing}")
    return {"name": name, **params}
