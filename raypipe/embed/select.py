"""Resolve ``embedder: auto`` to a concrete model, saying which and why."""

from __future__ import annotations

import logging
from typing import Any

from raypipe.models import DEFAULT_MODEL_ROOT, find_arcface_model
from raypipe.models.auto import auto_fetch_recogniser
from raypipe.registry import split_spec

log = logging.getLogger(__name__)


#: Embedding of drawn faces by default: raypipe's shipped drawn-face encoder (a small CNN trained
#: on drawn faces, joined with colour histograms) on box crops; see :mod:`raypipe.features.drawn`.
COMIC_EMBEDDER = {"name": "feature", "feature": "drawn"}


def resolve_embedder(
    spec: dict[str, Any], model_root: str | None, domain: str = "photo", auto_fetch: bool = False
) -> dict[str, Any]:
    """``spec`` itself unless it is ``auto``: then, for photos, ArcFace when a model is found
    (or, with ``auto_fetch``, fetched: see :mod:`raypipe.models.auto`), else dlib; for comics,
    :data:`COMIC_EMBEDDER`."""
    name, params = split_spec(spec)
    if name != "auto":
        return {"name": name, **params}
    if domain == "comic":
        log.info("embedder: %s (comic pages: drawn faces have no photo landmarks)", COMIC_EMBEDDER)
        return {**COMIC_EMBEDDER, **params}
    if params.get("model_path"):
        log.info("embedder: arcface-onnx (model_path given: %s)", params["model_path"])
        return {"name": "arcface-onnx", **params}
    found, how = find_arcface_model(model_root), "found under the model root"
    if found is None:
        found, why_not = auto_fetch_recogniser(model_root, auto_fetch)
        how = "fetched"
    if found is not None:
        log.info("embedder: arcface-onnx (%s %s)", how, found)
        return {"name": "arcface-onnx", "model_path": str(found), **params}
    log.info(
        "embedder: dlib (no ArcFace ONNX model under the model root %s; %s; set extract.model_root "
        "or extract.embedder.model_path to use one)", model_root or DEFAULT_MODEL_ROOT, why_not,
    )  # fmt: skip
    return {"name": "dlib", **params}
