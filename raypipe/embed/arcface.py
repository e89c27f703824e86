"""ArcFace-style 512-d recognisers in ONNX, run through insightface's model zoo."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from raypipe.align import norm_crop
from raypipe.detect.base import Face
from raypipe.embed.base import Embedder, l2_normalize
from raypipe.onnx import onnx_providers

log = logging.getLogger(__name__)


class ArcFaceEmbedder(Embedder):
    """Any ArcFace-style ONNX recogniser (112x112 BGR input, 512-d output) given by path.

    Works with insightface's ``w600k_r50.onnx`` (buffalo_l) and other exports that
    ``insightface.model_zoo.get_model`` recognises as ArcFace. Faces need the five ArcFace
    landmarks (from the detector, or dlib's 68-point predictor).
    """

    model_name = "arcface-512"
    dim = 512
    chip_size = 112

    def __init__(self, model_path: str, device: str = "auto"):
        path = Path(model_path).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"ArcFace model not found: {path}")
        self.model_path = str(path)
        self.device = device
        self.uses_gpu = onnx_providers(device)[0] == "CUDAExecutionProvider"
        self._model = None  # loaded on first embed(): aligning actors never need it

    def _load(self):
        from insightface.model_zoo import get_model

        model = get_model(self.model_path, providers=onnx_providers(self.device))
        if model is None or getattr(model, "taskname", "") != "recognition":
            raise ValueError(f"{self.model_path} is not an ArcFace-style recognition model")
        model.prepare(ctx_id=0 if self.uses_gpu else -1)
        batch_dim = model.session.get_inputs()[0].shape[0]
        #: Chips per ONNX call: the model's fixed batch size, or 64 when it is dynamic.
        self.max_batch = batch_dim if isinstance(batch_dim, int) and batch_dim > 0 else 64
        return model

    def align(self, image: np.ndarray, face: Face) -> np.ndarray:
        if face.landmarks is None:
            raise ValueError("ArcFace alignment needs five landmarks")
        return norm_crop(image, face.landmarks, self.chip_size)

    def embed(self, chips: np.ndarray) -> np.ndarray:
        if len(chips) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self._model is None:
            self._model = self._load()
        bgr = [np.ascontiguousarray(chip[:, :, ::-1]) for chip in chips]
        parts = [
            self._model.get_feat(bgr[start : start + self.max_batch])
            for start in range(0, len(bgr), self.max_batch)
        ]
        return l2_normalize(np.concatenate(parts))


class InsightFaceEmbedder(ArcFaceEmbedder):
    """The recogniser of an insightface model pack (e.g. ``buffalo_l``) under the model root."""

    def __init__(self, pack: str = "buffalo_l", model_root: str | None = None, device: str = "auto"):
        from raypipe.detect.insightface import pack_file

        super().__init__(str(pack_file(pack, model_root, task="recognition")), device=device)
