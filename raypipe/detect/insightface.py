"""insightface model packs (e.g. ``buffalo_l``): SCRFD detection with five landmarks.

A pack lives at ``<model_root>/models/<pack>/`` (insightface's own layout, default root
``~/.insightface``). With ``download=True`` insightface fetches a missing pack (needs internet).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from raypipe.detect.base import Detector, Face
from raypipe.onnx import onnx_providers

DEFAULT_INSIGHTFACE_ROOT = "~/.insightface"


def pack_dir(pack: str, model_root: str | None, download: bool = False) -> Path:
    """Folder of an insightface pack, downloading it first when asked; clear error when absent."""
    root = Path(model_root or DEFAULT_INSIGHTFACE_ROOT).expanduser()
    folder = root / "models" / pack
    if not any(folder.glob("*.onnx")) and download:
        from insightface.utils.storage import ensure_available

        folder = Path(ensure_available("models", pack, root=str(root)))
    if not any(folder.glob("*.onnx")):
        raise FileNotFoundError(
            f"insightface pack {pack!r} not found: expected ONNX files in {folder}. Put the pack "
            f"there (unzip {pack}.zip), point extract.model_root at its parent's parent, or set "
            "download: true on a machine with internet access"
        )
    return folder


def pack_file(pack: str, model_root: str | None, task: str, download: bool = False) -> Path:
    """The ONNX file of ``task`` (``detection`` or ``recognition``) inside a pack."""
    from insightface.model_zoo import get_model

    for path in sorted(pack_dir(pack, model_root, download).glob("*.onnx")):
        model = get_model(str(path), providers=["CPUExecutionProvider"])
        if model is not None and getattr(model, "taskname", None) == task:
            return path
    raise FileNotFoundError(f"insightface pack {pack!r} has no {task} model")


class InsightFaceDetector(Detector):
    """SCRFD from an insightface pack: boxes, scores and the five ArcFace landmarks."""

    gives_landmarks = True
    gpu_capable = True

    def __init__(
        self,
        pack: str = "buffalo_l",
        model_root: str | None = None,
        model_path: str | None = None,
        input_size: int = 640,
        min_score: float = 0.5,
        download: bool = False,
        device: str = "auto",
    ):
        from insightface.model_zoo import get_model

        path = model_path or str(pack_file(pack, model_root, "detection", download))
        providers = onnx_providers(device)
        self.uses_gpu = providers[0] == "CUDAExecutionProvider"
        self._model = get_model(path, providers=providers)
        if self._model is None or getattr(self._model, "taskname", None) != "detection":
            raise ValueError(f"{path} is not an insightface detection model")
        self._model.prepare(ctx_id=0 if self.uses_gpu else -1, input_size=(input_size, input_size), det_thresh=min_score)

    def detect(self, image: np.ndarray) -> list[Face]:
        boxes, points = self._model.detect(np.ascontiguousarray(image[:, :, ::-1]))
        faces = [
            Face(tuple(float(v) for v in b[:4]), float(b[4]), None if points is None else points[i].astype(np.float32))
            for i, b in enumerate(boxes)
        ]
        return sorted(faces, key=lambda f: -f.score)
