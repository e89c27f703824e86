"""Resolve ``embedder: auto`` to a concrete model, saying which and why."""

from __future__ import annotations

import logging
from typing import Any

from raypipe.models import DEFAULT_MODEL_ROOT, find_arcface_model, find_model
from raypipe.models.auto import auto_fetch_model
from raypipe.registry import split_spec

log = logging.getLogger(__name__)


#: Drawn faces, when the DenseNet backbone is missing: raypipe's small shipped CNN joined with
#: colour histograms, on box crops; see :mod:`raypipe.features.drawn`.
SMALL_DRAWN_EMBEDDER = {"name": "feature", "feature": "drawn"}


def drawn_embedder(model_root: str | None, auto_fetch: bool = False) -> dict[str, Any]:
    """The drawn-face embedder: the DenseNet encoder of :mod:`raypipe.features.drawn_densenet`
    on 224-px crops of the face box and its surroundings (``CONTEXT`` of that module, within the image: a
    whole-image crop gets none) when its backbone is found (or, with ``auto_fetch``, fetched), else
    :data:`SMALL_DRAWN_EMBEDDER`, saying why."""
    from raypipe.features.drawn_densenet import BACKBONE_FILE, CONTEXT, INPUT_SIZE

    found, why_not = find_model(BACKBONE_FILE, model_root), ""
    if found is None:
        found, why_not = auto_fetch_model(BACKBONE_FILE, model_root, auto_fetch)
    if found is None:
        log.info("embedder: %s (no %s under the model root %s: %s)", SMALL_DRAWN_EMBEDDER, BACKBONE_FILE,
                 model_root or DEFAULT_MODEL_ROOT, why_not)  # fmt: skip
        return dict(SMALL_DRAWN_EMBEDDER)
    log.info("embedder: drawn-densenet (drawn faces; backbone %s)", found)
    feature = {"name": "drawn-densenet", "model_path": str(found)}
    return {"name": "feature", "feature": feature, "chip_size": INPUT_SIZE, "margin": 0.0, "context": CONTEXT}


def resolve_embedder(
    spec: dict[str, Any], model_root: str | None, domain: str = "photo", auto_fetch: bool = False
) -> dict[str, Any]:
    """``spec`` itself unless it is ``auto``: then, for photos, ArcFace when a model is found
    (or, with ``auto_fetch``, fetched: see :mod:`raypipe.models.auto`), else dlib; for comics,
    :func:`drawn_embedder`."""
    name, params = split_spec(spec)
    if name != "auto":
        return {"name": name, **params}
    if domain == "comic":
        return {**drawn_embedder(model_root, auto_fetch), **params}
    if params.get("model_path"):
        log.info("embedder: arcface-onnx (model_path given: %s)", params["model_path"])
        return {"name": "arcface-onnx", **params}
    found, how = find_arcface_model(model_root), "found under the model root"
    if found is None:
        found, why_not = auto_fetch_model("fr_feature.onnx", model_root, auto_fetch)
        how = "fetched"
    if found is not None:
        log.info("embedder: arcface-onnx (%s %s)", how, found)
        return {"name": "arcface-onnx", "model_path": str(found), **params}
    log.info(
        "embedder: dlib (no ArcFace ONNX model under the model root %s; %s; set extract.model_root "
        "or extract.embedder.model_path to use one)", model_root or DEFAULT_MODEL_ROOT, why_not,
    )  # fmt: skip
    return {"name": "dlib", **params}
