"""A second look at the drawn-face detector's candidate boxes: is this a face?

Each candidate box, grown by the drawn-face embedder's ``CONTEXT`` within the image, is chipped at
224 px and described by the pretrained DenseNet-121 that embeds drawn faces
(:mod:`raypipe.features.drawn_densenet`: the square roots of its pooled features, whitened by the
shipped projection fitted on ``anime_unlabelled``), joined with the detector's score and the box's
log size; a logistic regression on these gives the probability that the box is a face. A file
saved with ``mirrored`` describes each chip by the mean features of the chip and its mirror image
(as the embedder's identity head does; two backbone passes); older files do not. It is
trained by ``bench/train_drawn_verifier.py`` on the candidates the shipped detector puts on
synthetic pages of the allowed crops (hard negatives: art, bodies, hands, text), labelled by where
the faces were pasted. Shipped as plain arrays (``weights/drawn_verifier.npz``, no pickle) with a
record of what it was trained on (:func:`trained_on`). The backbone is not shipped: it is found
under the model root (``raypipe models fetch``), see :func:`find_backbone`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from raypipe.embed.crop import box_crop, grown_within
from raypipe.features.drawn_densenet import (
    BACKBONE_FILE,
    CONTEXT,
    INPUT_SIZE,
    DrawnFaceDenseNet,
    load_projection,
    whitened,
)
from raypipe.models import find_model

VERIFIER = Path(__file__).parent / "weights" / "drawn_verifier.npz"
_MODEL_KEYS = ("coef", "intercept")
#: A 0-d bool array: the regression was fitted on mirror-averaged features (absent: False).
_MIRRORED_KEY = "mirrored"
#: What a verifier file records about its training: one string each (a JSON text is fine).
PROVENANCE_KEYS = ("trained_on", "command")


def find_backbone(model_root: str | None) -> Path | None:
    """The DenseNet backbone file under the model root, or None (not fetched yet)."""
    return find_model(BACKBONE_FILE, model_root)


def candidate_chips(image: np.ndarray, boxes: np.ndarray) -> list[np.ndarray]:
    """224-px chips of ``boxes`` grown by ``CONTEXT`` within ``image``, as the embedder chips."""
    return [box_crop(image, grown_within(tuple(box), CONTEXT, image.shape), INPUT_SIZE, 0.0) for box in boxes]


def box_terms(boxes: np.ndarray, scores: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``(n, 2)``: the detector's score, and the log of the box's long side over the image's."""
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    sides = np.maximum(np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]), 1.0)
    return np.stack([np.asarray(scores, np.float64), np.log(sides / max(shape[:2]))], 1)


def save_verifier(path: Path, coef: np.ndarray, intercept: float, mirrored: bool = False, **provenance: str) -> None:
    """A logistic regression on :meth:`DrawnFaceVerifier.features` as one ``.npz`` of plain
    arrays, with its provenance (:data:`PROVENANCE_KEYS`, each a string); ``mirrored``: fitted on
    the features of verifiers that average each chip with its mirror image."""
    missing = set(PROVENANCE_KEYS) - set(provenance)
    if missing:
        raise ValueError(f"a verifier must record {', '.join(sorted(missing))}")
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, coef=np.asarray(coef, np.float32).reshape(-1),
                        intercept=np.asarray(float(intercept), np.float32), mirrored=np.asarray(bool(mirrored)),
                        **{key: np.asarray(str(provenance[key])) for key in PROVENANCE_KEYS})  # fmt: skip


def trained_on(path: str | Path = VERIFIER) -> dict[str, str]:
    """What a verifier file of :func:`save_verifier` records about its training."""
    with np.load(Path(path), allow_pickle=False) as stored:
        return {key: str(stored[key]) for key in PROVENANCE_KEYS}


class DrawnFaceVerifier:
    """The probability that each candidate box of an image is a drawn face.

    ``backbone``: ``fr_expression.onnx``; ``weights``: a file of :func:`save_verifier`, or None
    to describe boxes only (training); ``mirrored``: describe boxes by mirror-averaged features
    without weights (a weights file says it itself); ``device``: where the backbone runs.
    """

    def __init__(self, backbone: str | Path, weights: str | Path | None = VERIFIER, device: str = "cpu",
                 mirrored: bool = False):  # fmt: skip
        self._extractor = DrawnFaceDenseNet(model_path=backbone, projection=None, device=device)
        self._projection = load_projection()
        self._model = None
        self.mirrored = mirrored
        if weights is not None:
            with np.load(Path(weights), allow_pickle=False) as stored:
                self._model = {key: stored[key].astype(np.float64) for key in _MODEL_KEYS}
                self.mirrored = _MIRRORED_KEY in stored.files and bool(stored[_MIRRORED_KEY])

    def features(self, image: np.ndarray, boxes: np.ndarray, scores: Sequence[float]) -> np.ndarray:
        """``(n, 384 + 2)``: the whitened DenseNet features of each box's chip (mirror-averaged
        when :attr:`mirrored`), then :func:`box_terms`."""
        boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
        pooled = self._extractor.pooled(candidate_chips(image, boxes), self.mirrored)
        return np.hstack([whitened(pooled, self._projection), box_terms(boxes, scores, image.shape)])

    def probabilities(self, image: np.ndarray, boxes: np.ndarray, scores: Sequence[float]) -> np.ndarray:
        """``(n,)`` probabilities that the boxes are faces."""
        if self._model is None:
            raise ValueError("this verifier was built without weights: it can only describe boxes")
        if not len(boxes):
            return np.zeros(0)
        logits = self.features(image, boxes, scores) @ self._model["coef"] + self._model["intercept"]
        return 1.0 / (1.0 + np.exp(-logits))
