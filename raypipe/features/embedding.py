"""The run's own face embedding (dlib, ArcFace, ...) as a research feature."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from raypipe.embed.base import l2_normalize
from raypipe.features.base import FeatureExtractor


class RunEmbedding(FeatureExtractor):
    """Passes through the ``embedding`` column of faces.parquet (L2-normalised again)."""

    input_column = "embedding"

    def transform(self, embeddings: Sequence[np.ndarray]) -> np.ndarray:
        return l2_normalize(np.stack([np.asarray(e, dtype=np.float32) for e in embeddings]))
