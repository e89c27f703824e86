"""Faces without landmarks (drawn characters, pre-cropped datasets): square box crops embedded
with a research feature of :mod:`raypipe.features` (colour histograms, HOG, ...)."""

from __future__ import annotations

from functools import cached_property

import cv2
import numpy as np

from raypipe.detect.base import Face
from raypipe.embed.base import Embedder, l2_normalize


def box_crop(image: np.ndarray, box: tuple[float, float, float, float], size: int, margin: float = 0.1) -> np.ndarray:
    """The square around ``box`` grown by ``margin`` of its side, edge-padded, resized to ``size``."""
    x1, y1, x2, y2 = box
    side = max(x2 - x1, y2 - y1) * (1 + 2 * margin)
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    left, top = round(cx - side / 2), round(cy - side / 2)
    side = max(1, round(side))
    h, w = image.shape[:2]
    pad = max(0, -left, -top, left + side - w, top + side - h)
    padded = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REPLICATE) if pad else image
    crop = padded[top + pad : top + pad + side, left + pad : left + pad + side]
    return cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA if side > size else cv2.INTER_LINEAR)


def grown_within(box: tuple[float, float, float, float], share: float, shape: tuple[int, ...]) -> tuple[float, ...]:
    """``box`` grown by ``share`` of its width and height on each side, as far as the image
    (``shape``) goes: real surroundings only, never padding."""
    x1, y1, x2, y2 = box
    dx, dy = share * (x2 - x1), share * (y2 - y1)
    return max(0.0, x1 - dx), max(0.0, y1 - dy), min(float(shape[1]), x2 + dx), min(float(shape[0]), y2 + dy)


class FeatureEmbedder(Embedder):
    """Box crops embedded by a stateless feature extractor, e.g. ``{name: feature, feature: color-hist}``.

    The chip is the square around the face box grown by ``margin`` (edge-padded beyond the
    image), after the box itself is grown by ``context`` within the image (see
    :func:`grown_within`).

    Extractors that learn (Fisher vectors, SimCLR) are fitted on a run's chips afterwards with
    ``raypipe features``; here only extractors that need no fitting are accepted.
    """

    aligns_by_landmarks = False

    def __init__(
        self, feature: str | dict = "color-hist", chip_size: int = 96, margin: float = 0.1, context: float = 0.0
    ):
        from raypipe.features import FEATURES

        self.extractor = FEATURES.build(feature)
        if self.extractor.learns:
            raise ValueError(f"feature {feature!r} must be fitted first: use `raypipe features` on the run")
        self.feature = feature
        self.chip_size = chip_size
        self.margin = margin
        self.context = context
        self.model_name = f"feature:{feature if isinstance(feature, str) else feature['name']}"

    @cached_property
    def dim(self) -> int:
        """The feature's length, found by describing one blank chip: only when asked for, so that
        an embedder built just to align (the align stage) never runs its model."""
        return int(self.extractor.transform([np.zeros((self.chip_size, self.chip_size, 3), np.uint8)]).shape[1])

    def align(self, image: np.ndarray, face: Face) -> np.ndarray:
        box = grown_within(face.box, self.context, image.shape) if self.context else face.box
        return box_crop(image, box, self.chip_size, self.margin)

    def embed(self, chips: np.ndarray) -> np.ndarray:
        return l2_normalize(self.extractor.transform(list(chips)))
