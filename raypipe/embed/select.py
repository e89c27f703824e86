"""Resolve ``embedder: auto`` to a concrete model, saying which and why."""

from __future__ import annotations

import logging
from typing import Any

from raypipe.models import find_arcface_model
from raypipe.registry import split_spec

log = logging.getLogger(__name__)


def resolve_embedder(spec: dict[str, Any], model_root: str | None) -> dict[str, Any]:
    """``spec`` itself unless it is ``auto``: then ArcFace when a model is found, else dlib."""
    name, params = split_spec(spec)
    if name != "auto":
        return {"name": name, **params}
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
