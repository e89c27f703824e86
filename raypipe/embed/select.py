"""Resolve ``embedder: auto`` to a concrete model, saying which and why."""

from __future__ import annotations

import logging
from typing import Any

from raypipe.models import find_arcface_model
from raypipe.registry import split_spec

log = logging.getLogger(__name__)


#: Embedding of drawn faces by default: raypipe's shipped drawn-face encoder (a small CNN trained
#: on drawn faces, joined with colour histograms) on box crops; see :mod:`raypipe.features.drawn`.
COMIC_EMBEDDER = {"name": "feature", "feature": "drawn"}


def resolve_embedder(spec: dict[str, Any], model_root: str | None, domain: str = "photo") -> dict[str, Any]:
    """``spec`` itself unless it is ``auto``: then, for photos, ArcFace when a model is found,
    else dlib; for comics, :data:`COMIC_EMBEDDER`."""
    name, params = split_spec(spec)
    if name != "auto":
        return {"name": name, **params}
    if domain == "comic":
        log.info("embedder: %s (comic pages: drawn faces have no photo landmarks)", COMIC_EMBEDDER)
        return {**COMIC_EMBEDDER, **params}
    if params.get("model_path"):
        log.info("embedder: arcface-onnx (model_path given: %s)", params["model_path"])
        return {"name": "arcface-onnx", **params}
    found = find_arcface_model(model_root)
    if found is not None:
        log.info("embedder: arcface-onnx (found %s under the model root)", found)
        return {"name": "arcface-onnx", "model_path": str(found), **params}
    log.info(
        "embedder: dlib (no ArcFace ONNX model under the model root %s; set "
        "extract.model_root or extract.embedder.model_path to use one)",
        model_root or "~/.raypipe/models",
    )
    return {"name": "dlib", **params}
