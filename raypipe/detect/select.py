"""Resolve ``detector: auto`` for the domain, saying which detector and why.

Photos: the RFB detector with its 68-point landmark model when both files are under the model
root (several times the images/s of dlib-hog + dlib on CPU, and as accurate and clustering as
well: figures in docs/detectors.md), else dlib-hog. dlib-hog also stays with the dlib embedder,
which re-fits dlib's own landmarks to the box (it clusters worse on RFB boxes). Comic pages: ``drawn-faces``, the drawn-face detector raypipe
trains and ships inside the package (nothing to fetch; see docs/drawn-detection.md); nagadomi's
LBP cascade stays available by name (``anime-cascade`` with the path of its XML file).

``whole-image`` on comic crops reframes each crop on its drawn face (``reframe: drawn-faces``,
:mod:`raypipe.detect.whole_image`) unless the spec says otherwise: a crop is then chipped around
its face however loosely it was cut (docs/drawn-faces.md, "Issue 25, tenth round").

``comic.text_mode: auto`` is resolved beside the detector: ``none`` when the detector re-scores
each box with its candidate verifier (``drawn-faces`` with the DenseNet backbone fetched: the
verifier rejects boxes on balloons and lettering, and painting or filtering them cost faces;
docs/drawn-detection.md, "Stage 14"), else ``lettering-filter`` (chosen for detectors alone).
"""

from __future__ import annotations

import inspect
import logging
from typing import Any

from raypipe.errors import UsageError
from raypipe.models import model_root
from raypipe.registry import split_spec

log = logging.getLogger(__name__)

PHOTO_DEFAULT = "dlib-hog"
FAST_PHOTO_DETECTOR = "rfb"
COMIC_DEFAULT = "drawn-faces"
#: How ``whole-image`` frames drawn crops unless told (:data:`raypipe.detect.whole_image.REFRAME_MODES`).
COMIC_REFRAME = "drawn-faces"
#: ``comic.text_mode: auto`` with a detector that verifies its boxes, and with one that does not.
VERIFIED_TEXT_MODE, UNVERIFIED_TEXT_MODE = "none", "lettering-filter"


def resolve_detector(
    spec: dict[str, Any], domain: str, configured_root: str | None, embedder: str | None = None
) -> dict[str, Any]:
    """``spec`` itself unless it is ``auto``; then the detector for ``domain`` and the resolved
    ``embedder`` name (see above)."""
    name, params = split_spec(spec)
    if name == "whole-image" and domain == "comic" and "reframe" not in params:
        log.info("detector: whole-image, each crop reframed on its drawn face (reframe: none keeps the whole crop)")
        params = {**params, "reframe": COMIC_REFRAME}
    if name != "auto":
        return _with_model_root(name, params, configured_root)
    if domain == "comic":
        log.info("detector: %s (comic pages; shipped with raypipe)", COMIC_DEFAULT)
        return _with_model_root(COMIC_DEFAULT, params, configured_root)
    return _photo_detector(params, model_root(configured_root), configured_root, embedder)


def resolve_text_mode(mode: str, detector: dict[str, Any]) -> str:
    """``mode`` itself unless it is ``auto``; then the text mode for the resolved ``detector``
    spec (see above), said in one log line."""
    if mode != "auto":
        return mode
    from raypipe.detect.drawn import verifies

    name, params = split_spec(detector)
    verified = name == COMIC_DEFAULT and verifies(params.get("verifier", "auto"), params.get("model_root"))
    resolved = VERIFIED_TEXT_MODE if verified else UNVERIFIED_TEXT_MODE
    log.info("comic text mode: %s (%s)", resolved, "the detector verifies its boxes" if verified else "no verifier")
    return resolved


def _photo_detector(
    params: dict[str, Any], root, configured_root: str | None, embedder: str | None
) -> dict[str, Any]:
    """RFB when its models are under the model root and the embedder aligns by landmarks, else
    dlib-hog; one log line says which and why."""
    from raypipe.detect import DETECTORS

    missing = DETECTORS.resolve(FAST_PHOTO_DETECTOR).missing_models(
        {"model_root": configured_root, **params}
    )
    if missing is None and embedder != "dlib":
        log.info(
            "detector: %s (photos; its models are under the model root %s)",
            FAST_PHOTO_DETECTOR,
            root,
        )
        return _with_model_root(FAST_PHOTO_DETECTOR, params, configured_root)
    why = "the dlib embedder aligns with dlib's own landmarks" if missing is None else missing
    log.info("detector: %s (photos; not rfb: %s)", PHOTO_DEFAULT, why)
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
