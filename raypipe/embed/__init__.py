"""Face embedders, chosen by name (``embedder: {name: arcface-onnx, model_path: ...}``)."""

from raypipe.embed.base import Embedder, l2_normalize
from raypipe.registry import Registry

EMBEDDERS: Registry[Embedder] = Registry(
    "embedder",
    {
        "dlib": "raypipe.embed.dlib:DlibEmbedder",
        "arcface-onnx": "raypipe.embed.arcface:ArcFaceEmbedder",
        "insightface": "raypipe.embed.arcface:InsightFaceEmbedder",
        "feature": "raypipe.embed.crop:FeatureEmbedder",
    },
)

__all__ = ["EMBEDDERS", "Embedder", "l2_normalize"]
