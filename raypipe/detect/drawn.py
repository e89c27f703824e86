"""Drawn (anime / manga) faces with the detector raypipe trains and ships, ``drawn_faces.onnx``.

A small CenterNet-style network trained here on synthetic grey pages with drawn faces
pasted in (``bench/train_drawn_detector.py``; data, figures and commands in
``docs/drawn-detection.md``). It sees grey only, so colour pages, grey tones and black-and-white
line art are all one input. The graph takes RGB in [0, 1] of any size and gives its best 100
boxes with scores; the image is run at three sizes (its long side at 640, 320 and 160 pixels,
so that a face from about 2% to nearly all of the image's long side falls in the range it was
trained on: the 160 pass is for close-ups too large for the others) and the boxes of all are
merged. An image smaller than a page (a panel crop) is
not enlarged past ``max_scale``, the scale a 1,164-pixel page is seen at, so that a panel's
faces look as big to the network as on the whole page. With ``flip`` each pass also runs on the
mirrored image (test-time augmentation): ``union`` keeps the boxes of both, ``mean`` pairs each
box with the one the other orientation found there and scores it by the mean of the two.
With a verifier (:mod:`raypipe.detect.drawn_verifier`) the boxes scored from
``candidate_threshold`` up are candidates, each re-scored by a logistic regression on pretrained
DenseNet features of its chip; a face's score is then the verifier's probability.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from raypipe.detect.base import Detector, Face
from raypipe.detect.boxes import box_iou, clip_boxes, nms
from raypipe.onnx import onnx_providers
from raypipe.registry import ComponentError

SHIPPED_MODEL = Path(__file__).parent / "weights" / "drawn_faces.onnx"
#: The network's smallest input side: its stride-32 features need a few cells.
MIN_SIDE = 128
#: How the passes on the mirrored image are merged (``flip``): not at all, all boxes, averaged.
FLIP_MODES = ("none", "union", "mean")
#: The overlap (IoU) at which a box of one orientation is the same face as one of the other.
FLIP_MATCH_IOU = 0.5
#: ``verifier``: re-score candidates when the DenseNet backbone is under the model root, or never.
VERIFIER_MODES = ("auto", "none")
#: The overlap (IoU) at which two candidates are one: the weaker is not verified.
DUPLICATE_IOU = 0.5

log = logging.getLogger(__name__)
_warned_no_backbone = False


class DrawnFaceDetector(Detector):
    """Drawn faces with the shipped ONNX model (or ``model_path``); no landmarks, best first.

    ``long_sides``: the sizes the image's long side is resized to, one pass each (the first
    pass never scales by more than ``max_scale``, the others in proportion).
    ``long_sides``, ``flip`` (one of :data:`FLIP_MODES`, :func:`merge_flipped`) and
    ``score_threshold``: best mean F1 on the synthetic, composed and manga-printed pages of the
    training characters (docs/drawn-detection.md, "Stage 6", kept by "Stage 7");
    ``nms_threshold``: a box is dropped when more than this share of it (or of the better box,
    the smaller of the two) lies in a better box, within a pass or across passes.
    ``verifier``: one of :data:`VERIFIER_MODES`; with ``auto`` (the default), when the DenseNet backbone
    (``fr_expression.onnx``) is under ``model_root`` (default: raypipe's), the boxes scored at
    ``candidate_threshold`` or more (less near-duplicates, IoU > :data:`DUPLICATE_IOU`) are
    re-scored by :class:`~raypipe.detect.drawn_verifier.DrawnFaceVerifier` and kept from
    ``verifier_threshold`` up, in place of ``score_threshold``; without the backbone the
    detector runs alone, as with ``none``, and says so once. ``candidate_threshold`` (0.30) and
    ``verifier_threshold`` (0.40): best mean F1 on the same choosing sets (docs/drawn-detection.md,
    "Stage 9").
    """

    def __init__(
        self,
        model_path: str | None = None,
        long_sides: Sequence[int] = (640, 320, 160),
        score_threshold: float = 0.50,
        nms_threshold: float = 0.5,
        max_scale: float = 0.55,
        flip: str = "mean",
        verifier: str = "auto",
        candidate_threshold: float = 0.30,
        verifier_threshold: float = 0.40,
        model_root: str | None = None,
        device: str = "cpu",
    ):
        import onnxruntime as ort

        if flip not in FLIP_MODES:
            raise ComponentError(f"drawn-faces flip must be one of {', '.join(FLIP_MODES)}, not {flip!r}")
        if verifier not in VERIFIER_MODES:
            raise ComponentError(f"drawn-faces verifier must be one of {', '.join(VERIFIER_MODES)}, not {verifier!r}")
        thresholds = {"score_threshold": score_threshold, "nms_threshold": nms_threshold,
                      "candidate_threshold": candidate_threshold, "verifier_threshold": verifier_threshold}  # fmt: skip
        for name, value in thresholds.items():
            if not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
                raise ComponentError(f"drawn-faces {name} must be a number from 0 to 1, not {value!r}")
        path = Path(model_path).expanduser() if model_path else SHIPPED_MODEL
        if not path.is_file():
            raise ComponentError(f"drawn-face detector model not found: {path}")
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        providers = onnx_providers(device)
        self.uses_gpu = providers[0] == "CUDAExecutionProvider"
        self._session = ort.InferenceSession(str(path), options, providers=providers)
        self.model_path = str(path)
        self.long_sides = tuple(int(side) for side in long_sides)
        self.max_scale = float(max_scale)
        self.score_threshold = float(score_threshold)
        self.nms_threshold = float(nms_threshold)
        self.flip = flip
        self.candidate_threshold = float(candidate_threshold)
        self.verifier_threshold = float(verifier_threshold)
        self.verifier = _verifier(verifier, model_root, device)

    def detect(self, image: np.ndarray) -> list[Face]:
        height, width = image.shape[:2]
        if self.verifier is None:
            boxes, scores = self._scored(image)
            threshold = self.score_threshold
        else:
            boxes, scores = self.candidates(image)
            scores = self.verifier.probabilities(image, boxes, scores)
            threshold = self.verifier_threshold
        keep = np.flatnonzero(scores >= threshold)
        keep = keep[nms(boxes[keep], scores[keep], self.nms_threshold, by_min=True)]
        boxes = clip_boxes(boxes[keep], width, height)
        return [Face(tuple(float(v) for v in box), float(scores[k])) for box, k in zip(boxes, keep)]

    def candidates(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The boxes (within the image) a verifier sees and their detector scores: those scored at
        ``candidate_threshold`` or more, less near-duplicates of better ones."""
        boxes, scores = self._scored(image)
        keep = np.flatnonzero(scores >= self.candidate_threshold)
        keep = keep[nms(boxes[keep], scores[keep], DUPLICATE_IOU)]
        return clip_boxes(boxes[keep], image.shape[1], image.shape[0]), scores[keep]

    def _scored(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Every box of every pass (both orientations merged as ``flip`` says) with its score."""
        height, width = image.shape[:2]
        boxes, scores = [], []
        for side in self.long_sides:
            scale = min(side / max(height, width), self.max_scale * side / self.long_sides[0])
            found, found_scores = self._pass(image, scale)
            if self.flip != "none":
                mirrored, mirrored_scores = self._pass(np.ascontiguousarray(image[:, ::-1]), scale)
                mirrored[:, [0, 2]] = width - mirrored[:, [2, 0]]
                found, found_scores = merge_flipped(
                    found, found_scores, mirrored, mirrored_scores, self.flip == "mean"
                )
            boxes.append(found)
            scores.append(found_scores)
        return np.concatenate(boxes), np.concatenate(scores)

    def _pass(self, image: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
        """Boxes (image pixels) and scores of one run with the image resized by ``scale``."""
        height, width = image.shape[:2]
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        resized = cv2.resize(
            image, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        )
        canvas = np.full((max(size[1], MIN_SIDE), max(size[0], MIN_SIDE), 3), 255, np.uint8)
        canvas[: size[1], : size[0]] = resized
        blob = canvas.transpose(2, 0, 1)[None].astype(np.float32) / 255.0
        boxes, scores = self._session.run(["boxes", "scores"], {"image": blob})
        return np.asarray(boxes, np.float64).reshape(-1, 4) / scale, np.asarray(
            scores, np.float64
        ).reshape(-1)


def verifies(verifier: str = "auto", model_root: str | None = None) -> bool:
    """Whether a ``drawn-faces`` detector with these settings re-scores its boxes with the
    candidate verifier (asked for, and its backbone under the model root)."""
    from raypipe.detect.drawn_verifier import find_backbone

    return verifier != "none" and find_backbone(model_root) is not None


def _verifier(mode: str, model_root: str | None, device: str):
    """The candidate verifier ``mode`` asks for, or None: not asked, or its backbone not fetched
    (said once a process)."""
    global _warned_no_backbone
    if mode == "none":
        return None
    from raypipe.detect.drawn_verifier import DrawnFaceVerifier, find_backbone

    backbone = find_backbone(model_root)
    if backbone is None:
        if not _warned_no_backbone:
            log.warning("drawn-faces: no candidate verifier (its DenseNet backbone is not under the model root "
                        "%s: `raypipe models fetch` installs it); the detector runs alone", model_root or "(default)")  # fmt: skip
            _warned_no_backbone = True
        return None
    return DrawnFaceVerifier(backbone, device=device)


def merge_flipped(
    boxes: np.ndarray, scores: np.ndarray, mirrored: np.ndarray, mirrored_scores: np.ndarray, mean: bool
) -> tuple[np.ndarray, np.ndarray]:
    """The boxes of a pass on the image and of one on its mirror image (mapped back), merged.

    Without ``mean``, all boxes of both (non-maximum suppression later keeps the better of two
    on one face). With ``mean``, each box of either pass is paired with the box of the other that
    overlaps it most (IoU >= :data:`FLIP_MATCH_IOU`): its score becomes the mean of the two
    scores (a box with no partner is averaged with 0: the other orientation saw nothing there)
    and its box their score-weighted mean; a pair comes out twice, which suppression merges.
    """
    if not mean:
        return np.concatenate([boxes, mirrored]), np.concatenate([scores, mirrored_scores])
    if not len(boxes) or not len(mirrored):
        return np.concatenate([boxes, mirrored]), np.concatenate([scores, mirrored_scores]) / 2
    overlap = box_iou(boxes, mirrored)
    merged_boxes, merged_scores = [], []
    for own, own_scores, other, other_scores, iou in [
        (boxes, scores, mirrored, mirrored_scores, overlap),
        (mirrored, mirrored_scores, boxes, scores, overlap.T),
    ]:
        best = iou.argmax(1)
        paired = iou[np.arange(len(own)), best] >= FLIP_MATCH_IOU
        partner_scores = np.where(paired, other_scores[best], 0.0)
        partners = np.where(paired[:, None], other[best], own)
        weight = (own_scores / np.maximum(own_scores + partner_scores, 1e-12))[:, None]
        merged_boxes.append(weight * own + (1 - weight) * partners)
        merged_scores.append((own_scores + partner_scores) / 2)
    return np.concatenate(merged_boxes), np.concatenate(merged_scores)
