"""dlib's ResNet face descriptor (128-d), on chips aligned with dlib's 5-point predictor."""

from __future__ import annotations

import numpy as np

from raypipe.align import dlib_rect
from raypipe.detect.base import Face
from raypipe.embed.base import Embedder, l2_normalize


class DlibEmbedder(Embedder):
    """128-d embedding of dlib's ``dlib_face_recognition_resnet_model_v1`` (LFW 99.38%).

    ``jitter`` > 0 averages that many randomly jittered copies (slower, slightly better).
    """

    model_name = "dlib-resnet-128"
    dim = 128
    chip_size = 150
    framing = "dlib"

    def __init__(self, jitter: int = 0, padding: float = 0.25):
        import dlib

        from raypipe.models import dlib_model

        self.jitter = jitter
        self.padding = padding
        self._shape = dlib.shape_predictor(dlib_model("shape_predictor_5"))
        self._net = None  # loaded on first embed(): aligning actors never need it

    def align(self, image: np.ndarray, face: Face) -> np.ndarray:
        import dlib

        shape = self._shape(image, dlib_rect(face.box))
        return dlib.get_face_chip(image, shape, size=self.chip_size, padding=self.padding)

    def embed(self, chips: np.ndarray) -> np.ndarray:
        if len(chips) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self._net is None:
            import dlib

            from raypipe.models import dlib_model

            self._net = dlib.face_recognition_model_v1(dlib_model("resnet"))
        batch = [np.ascontiguousarray(chip) for chip in chips]
        vectors = self._net.compute_face_descriptor(batch, self.jitter)
        return l2_normalize(np.array([np.array(v) for v in vectors]))
