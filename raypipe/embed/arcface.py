"""ArcFace-style 512-d recognisers in ONNX: onnxruntime (insightface's model zoo) or torch."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from raypipe.align import norm_crop
from raypipe.detect.base import Face
from raypipe.embed.base import Embedder, l2_normalize
from raypipe.onnx import onnx_providers

log = logging.getLogger(__name__)

BACKENDS = ("auto", "onnxruntime", "torch")


def choose_backend(backend: str, device: str) -> tuple[str, bool]:
    """``(backend, on_gpu)``: ``auto`` takes onnxruntime's CUDA provider, else torch on CUDA,
    else onnxruntime on the CPU."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown ArcFace backend {backend!r}; choose one of {BACKENDS}")
    if device == "cpu":
        return ("onnxruntime" if backend == "auto" else backend), False
    import torch

    ort_gpu = onnx_providers("auto")[0] == "CUDAExecutionProvider"
    torch_gpu = torch.cuda.is_available()
    if backend == "auto":
        backend = "onnxruntime" if ort_gpu or not torch_gpu else "torch"
    on_gpu = ort_gpu if backend == "onnxruntime" else torch_gpu
    if device.startswith("cuda") and not on_gpu:
        raise RuntimeError(f"device=cuda asked for, but the {backend} backend sees no GPU")
    return backend, on_gpu


class ArcFaceEmbedder(Embedder):
    """Any ArcFace-style ONNX recogniser (112x112 input, 512-d output) given by path.

    Works with insightface's ``w600k_r50.onnx`` (buffalo_l) and other ArcFace exports. Faces
    need the five ArcFace landmarks (from the detector, or dlib's 68-point predictor).
    ``backend``: ``onnxruntime`` (through insightface's model zoo), ``torch`` (the graph run by
    :mod:`raypipe.embed.onnx_torch`, on CUDA without onnxruntime-gpu), or ``auto``.
    """

    model_name = "arcface-512"
    dim = 512
    chip_size = 112
    framing = "arcface"
    gpu_capable = True

    def __init__(self, model_path: str, device: str = "auto", backend: str = "auto", max_batch: int = 256):
        path = Path(model_path).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"ArcFace model not found: {path}")
        self.model_path = str(path)
        self.device = device
        self.backend, self.uses_gpu = choose_backend(backend, device)
        self.max_batch = max_batch
        self._embed_batch = None  # loaded on first embed(): aligning actors never need it

    def align(self, image: np.ndarray, face: Face) -> np.ndarray:
        if face.landmarks is None:
            raise ValueError("ArcFace alignment needs five landmarks")
        return norm_crop(image, face.landmarks, self.chip_size)

    def embed(self, chips: np.ndarray) -> np.ndarray:
        if len(chips) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self._embed_batch is None:
            self._embed_batch = self._load_torch() if self.backend == "torch" else self._load_onnxruntime()
            log.info("ArcFace %s on %s (%s)", Path(self.model_path).name, self.backend, "GPU" if self.uses_gpu else "CPU")
        parts = [self._embed_batch(chips[i : i + self.max_batch]) for i in range(0, len(chips), self.max_batch)]
        return l2_normalize(np.concatenate(parts))

    def _load_onnxruntime(self):
        from insightface.model_zoo import get_model

        model = get_model(self.model_path, providers=onnx_providers("cuda" if self.uses_gpu else "cpu"))
        if model is None or getattr(model, "taskname", "") != "recognition":
            raise ValueError(f"{self.model_path} is not an ArcFace-style recognition model")
        model.prepare(ctx_id=0 if self.uses_gpu else -1)
        batch_dim = model.session.get_inputs()[0].shape[0]
        fixed = batch_dim if isinstance(batch_dim, int) and batch_dim > 0 else None

        def embed_batch(chips: np.ndarray) -> np.ndarray:
            bgr = [np.ascontiguousarray(chip[:, :, ::-1]) for chip in chips]
            step = fixed or len(bgr)
            return np.concatenate([model.get_feat(bgr[i : i + step]) for i in range(0, len(bgr), step)])

        return embed_batch

    def _load_torch(self):
        import torch

        from raypipe.devices import torch_device
        from raypipe.embed.onnx_torch import OnnxTorchModule

        device = torch_device(self.device if self.uses_gpu else "cpu")
        module = OnnxTorchModule(self.model_path).to(device).eval()
        mean, std = (0.0, 1.0) if module.normalises_input else (127.5, 127.5)

        def embed_batch(chips: np.ndarray) -> np.ndarray:
            x = torch.from_numpy(np.ascontiguousarray(chips)).to(device).permute(0, 3, 1, 2).float()
            return module((x - mean) / std).float().cpu().numpy()

        return embed_batch


class InsightFaceEmbedder(ArcFaceEmbedder):
    """The recogniser of an insightface model pack (e.g. ``buffalo_l``) under the model root."""

    def __init__(self, pack: str = "buffalo_l", model_root: str | None = None, device: str = "auto", backend: str = "auto"):
        from raypipe.detect.insightface import pack_file

        super().__init__(str(pack_file(pack, model_root, task="recognition")), device=device, backend=backend)
