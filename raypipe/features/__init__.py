"""Face features for research: descriptors of aligned chips, chosen by name.

Every extractor is a scikit-learn style transformer over a sequence of RGB uint8 chips
(``fit(chips)`` learns a vocabulary or a network where one is needed, ``transform(chips)``
returns an ``(N, D)`` float32 array) and a Ray Data stage (``__call__(batch)`` adds a
``feature`` column), e.g. ``FEATURES.build({"name": "lbp", "grid": 4})``.
"""

from raypipe.features.base import FeatureExtractor
from raypipe.registry import Registry

FEATURES: Registry[FeatureExtractor] = Registry(
    "feature",
    {
        "hog": "raypipe.features.classic:HOG",
        "lbp": "raypipe.features.classic:LBP",
        "color-hist": "raypipe.features.classic:ColorHistogram",
        "pixels": "raypipe.features.classic:Pixels",
        "sift-fisher": "raypipe.features.local:SIFTEncoded",
        "orb-fisher": "raypipe.features.local:ORBEncoded",
        "embedding": "raypipe.features.embedding:RunEmbedding",
        "simclr": "raypipe.features.learned:SimCLRFeature",
        "metric": "raypipe.features.learned:MetricFeature",
        "drawn": "raypipe.features.drawn:DrawnFaceEncoder",
        "drawn-densenet": "raypipe.features.drawn_densenet:DrawnFaceDenseNet",
    },
)

__all__ = ["FEATURES", "FeatureExtractor"]
