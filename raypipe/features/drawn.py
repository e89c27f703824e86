"""The drawn-face encoder raypipe ships: a small CNN trained once on drawn faces, plus colour.

``drawn`` embeds a face crop as the shipped CNN's vector joined with its colour histogram
(hair and eye colours tell characters apart), weighted so that the cosine similarity of two
faces is ``(1 - colour_weight) * cnn + colour_weight * colour``. No fitting is needed.

The weights (``weights/drawn_face.npz``, plain arrays, no pickle) come from
``bench/train_drawn_encoder.py --stage simclr``: SimCLR on the unlabelled drawn faces of
``anime_unlabelled`` and the ``anime_fanart`` crops, labels unused. ``anime`` is evaluation only:
none of its characters was trained on or chose a setting; its fixed halves below are what
``bench/drawn_clusters.py`` reports on (docs/drawn-faces.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from raypipe.embed.base import l2_normalize
from raypipe.features.base import FeatureExtractor
from raypipe.features.classic import ColorHistogram

WEIGHTS = Path(__file__).resolve().parent / "weights" / "drawn_face.npz"
#: Fixed halves of ../shared/data/anime (alternate characters in alphabetical order), for reports.
TRAINING_CHARACTERS = (
    "akiyama_mio", "hakurei_reimu", "izumi_konata", "lelouch_lamperouge", "suzumiya_haruhi",
)  # fmt: skip
REPORTING_CHARACTERS = (
    "fate_testarossa", "hatsune_miku", "kinomoto_sakura", "shana", "takamachi_nanoha",
)  # fmt: skip
_META = ("meta.size", "meta.width")


def save_weights(network, path: Path, size: int, width: int) -> None:
    """``network``'s arrays and its input size / width as one ``.npz`` (no pickle)."""
    from raypipe.features.learn.backbone import state_to_arrays

    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = state_to_arrays(network)
    np.savez_compressed(path, **arrays, **dict(zip(_META, np.array([[size], [width]]))))


def load_weights(path: str | Path = WEIGHTS) -> tuple[dict[str, np.ndarray], int, int]:
    """The network arrays, input size and width stored by :func:`save_weights`."""
    with np.load(Path(path), allow_pickle=False) as stored:
        arrays = {key: stored[key] for key in stored.files}
    size, width = (int(arrays.pop(key)[0]) for key in _META)
    return arrays, size, width


class DrawnFaceEncoder(FeatureExtractor):
    """Shipped CNN (+ colour histogram) embedding of drawn face crops; deterministic, CPU.

    ``weights``: an ``.npz`` written by :func:`save_weights` (default: the shipped file; None:
    an untrained network of ``size`` / ``width``, for training). ``colour_weight`` in [0, 1].
    """

    def __init__(
        self,
        *,
        weights: str | Path | None = WEIGHTS,
        colour_weight: float = 0.3,
        colour_grid: int = 1,
        size: int = 48,
        width: int = 16,
    ):
        self.weights = weights
        self.colour_weight = colour_weight
        self.colour_grid = colour_grid
        self.size = size
        self.width = width
        self.network_ = self._load()

    def _load(self):
        import torch

        from raypipe.features.learn.backbone import SmallCNN, load_arrays

        if self.weights is None:
            torch.manual_seed(0)
            return SmallCNN(self.width)
        arrays, self.size, self.width = load_weights(self.weights)
        return load_arrays(SmallCNN(self.width), arrays).eval()

    def transform(self, chips: Sequence[np.ndarray]) -> np.ndarray:
        import torch

        from raypipe.features.learn.backbone import chips_to_tensor, encode

        cnn = l2_normalize(encode(self.network_, chips_to_tensor(chips, self.size), torch.device("cpu")))
        if self.colour_weight <= 0:
            return cnn
        colour = l2_normalize(ColorHistogram(grid=self.colour_grid).transform(chips))
        return np.hstack(
            [cnn * np.sqrt(1.0 - self.colour_weight), colour * np.sqrt(self.colour_weight)]
        ).astype(np.float32)
