"""MTCNN face detector (Zhang et al., 2016): a P-Net/R-Net/O-Net cascade with five landmarks.

Each stage is batched over all images given: P-Net runs once per pyramid scale on every image of
the same size stacked, and R-Net/O-Net score the candidate crops of all images in one pass.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from raypipe.detect.base import Detector, Face
from raypipe.detect.boxes import clip_boxes, nms
from raypipe.detect.mtcnn_nets import ONet, PNet, RNet, load_network
from raypipe.detect.torch_ops import torch_device
from raypipe.detect.weights import mtcnn_weights

log = logging.getLogger(__name__)

#: P-Net looks at 12x12 windows with a stride of 2 pixels.
_PNET_WINDOW, _PNET_STRIDE = 12, 2


@dataclass
class _Candidates:
    """Face candidates of a batch of images (numpy, in image pixels)."""

    boxes: np.ndarray  # (k, 4) xyxy
    scores: np.ndarray  # (k,)
    image_index: np.ndarray  # (k,) index into the batch
    offsets: np.ndarray  # (k, 4) regression of x1, y1, x2, y2, as fractions of width/height
    landmarks: np.ndarray | None = None  # (k, 5, 2)

    def take(self, keep: np.ndarray) -> _Candidates:
        lm = None if self.landmarks is None else self.landmarks[keep]
        return _Candidates(self.boxes[keep], self.scores[keep], self.image_index[keep],
                           self.offsets[keep], lm)

    def regressed(self) -> np.ndarray:
        """Boxes moved by their predicted offsets."""
        width, height = (self.boxes[:, 2:] - self.boxes[:, :2]).T
        return self.boxes + self.offsets * np.stack([width, height, width, height], axis=1)


class MtcnnDetector(Detector):
    """MTCNN with its five landmarks (left eye, right eye, nose, left and right mouth corner).

    Parameters
    ----------
    min_face_size : smallest face side searched, in pixels (sets the first pyramid scale).
    thresholds : face probability needed to pass P-Net, R-Net and O-Net.
    scale_factor : ratio between pyramid levels.
    device : ``auto`` (CUDA when available), ``cpu``, ``cuda`` or ``cuda:N``.
    weights_dir : folder holding ``pnet.pt``, ``rnet.pt``, ``onet.pt``; fetched there at first
        use when absent (default ``~/.cache/raypipe/mtcnn``).
    """

    gives_landmarks = True
    gpu_capable = True

    def __init__(
        self,
        min_face_size: float = 20.0,
        thresholds: tuple[float, float, float] = (0.6, 0.7, 0.7),
        scale_factor: float = 0.709,
        device: str = "auto",
        weights_dir: str | Path | None = None,
    ):
        self.min_face_size = float(min_face_size)
        self.thresholds = tuple(float(t) for t in thresholds)
        self.scale_factor = float(scale_factor)
        self.device = torch_device(device)
        self.uses_gpu = self.device.type == "cuda"
        weights = mtcnn_weights(weights_dir)
        self.pnet = load_network(PNet(), weights["pnet"], self.device)
        self.rnet = load_network(RNet(), weights["rnet"], self.device)
        self.onet = load_network(ONet(), weights["onet"], self.device)
        log.debug("MTCNN loaded on %s", self.device)

    def detect(self, image: np.ndarray) -> list[Face]:
        return self.detect_batch([image])[0]

    @torch.inference_mode()
    def detect_batch(self, images: list[np.ndarray]) -> list[list[Face]]:
        """Faces of each RGB uint8 image, best first (images may differ in size)."""
        found = self._propose(images)
        found = self._refine(images, found)
        found = self._output(images, found)
        return [self._faces(found.take(found.image_index == i), image)
                for i, image in enumerate(images)]

    def _propose(self, images: list[np.ndarray]) -> _Candidates:
        """Stage 1: P-Net over an image pyramid, per-scale then per-image NMS, squared boxes."""
        by_shape: dict[tuple[int, ...], list[int]] = defaultdict(list)
        for index, image in enumerate(images):
            by_shape[image.shape].append(index)
        found = [
            self._propose_same_size(np.stack([images[i] for i in indices]), np.asarray(indices))
            for indices in by_shape.values()
        ]
        found = _concat(found)
        found = found.take(nms(found.boxes, found.scores, 0.7, groups=found.image_index))
        found.boxes = _square(found.regressed())
        return found

    def _propose_same_size(self, stack: np.ndarray, image_index: np.ndarray) -> _Candidates:
        batch = _to_network_input(torch.from_numpy(stack).to(self.device).permute(0, 3, 1, 2))
        height, width = stack.shape[1:3]
        found = []
        for scale in self._scales(height, width):
            size = (math.ceil(height * scale), math.ceil(width * scale))
            prob, offsets = self.pnet(F.interpolate(batch, size=size, mode="area"))
            n, row, col = torch.nonzero(prob >= self.thresholds[0], as_tuple=True)
            corner = torch.stack([col, row], dim=1).float() * _PNET_STRIDE
            boxes = torch.cat([corner, corner + _PNET_WINDOW], dim=1) / scale
            level = _Candidates(
                boxes.cpu().numpy(),
                prob[n, row, col].cpu().numpy(),
                image_index[n.cpu().numpy()],
                offsets[n, :, row, col].cpu().numpy(),
            )
            found.append(level.take(nms(level.boxes, level.scores, 0.5, groups=level.image_index)))
        return _concat(found)

    def _scales(self, height: int, width: int) -> list[float]:
        scale = _PNET_WINDOW / self.min_face_size
        scales = []
        while min(height, width) * scale >= _PNET_WINDOW:
            scales.append(scale)
            scale *= self.scale_factor
        return scales

    def _refine(self, images: list[np.ndarray], found: _Candidates) -> _Candidates:
        """Stage 2: R-Net rescoring of the candidates' crops, NMS, regression, squared boxes."""
        if not len(found.boxes):
            return found
        prob, offsets = self.rnet(self._crops(images, found, 24))
        found.scores, found.offsets = prob.cpu().numpy(), offsets.cpu().numpy()
        found = found.take(found.scores > self.thresholds[1])
        found = found.take(nms(found.boxes, found.scores, 0.7, groups=found.image_index))
        found.boxes = _square(found.regressed())
        return found

    def _output(self, images: list[np.ndarray], found: _Candidates) -> _Candidates:
        """Stage 3: O-Net scores, landmarks and final boxes; NMS by overlap of the smaller box."""
        if not len(found.boxes):
            found.landmarks = np.zeros((0, 5, 2), np.float32)
            return found
        prob, offsets, points = self.onet(self._crops(images, found, 48))
        found.scores, found.offsets = prob.cpu().numpy(), offsets.cpu().numpy()
        points = points.cpu().numpy().reshape(-1, 2, 5).transpose(0, 2, 1)  # (k, 5, [x, y])
        size = (found.boxes[:, 2:] - found.boxes[:, :2])[:, None, :]
        found.landmarks = (found.boxes[:, None, :2] + points * size).astype(np.float32)
        found = found.take(found.scores > self.thresholds[2])
        found.boxes = found.regressed()
        return found.take(nms(found.boxes, found.scores, 0.7, by_min=True, groups=found.image_index))

    def _crops(self, images: list[np.ndarray], found: _Candidates, size: int) -> torch.Tensor:
        """Network input of each candidate box, zero padded outside its image."""
        crops = np.stack([
            cv2.resize(_padded_crop(images[i], box), (size, size), interpolation=cv2.INTER_AREA)
            for i, box in zip(found.image_index, found.boxes)
        ])
        return _to_network_input(torch.from_numpy(crops).to(self.device).permute(0, 3, 1, 2))

    @staticmethod
    def _faces(found: _Candidates, image: np.ndarray) -> list[Face]:
        height, width = image.shape[:2]
        boxes = clip_boxes(found.boxes, width, height)
        order = np.argsort(-found.scores, kind="stable")
        return [
            Face(tuple(float(v) for v in boxes[i]), float(found.scores[i]), found.landmarks[i])
            for i in order
        ]


def _to_network_input(pixels: torch.Tensor) -> torch.Tensor:
    return (pixels.float() - 127.5) / 128.0


def _square(boxes: np.ndarray) -> np.ndarray:
    """Boxes grown to squares around the same centres (side = the longer side)."""
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2
    half = (boxes[:, 2:] - boxes[:, :2]).max(axis=1, keepdims=True) / 2
    return np.concatenate([centre - half, centre + half], axis=1)


def _padded_crop(image: np.ndarray, box: np.ndarray) -> np.ndarray:
    """The pixels under ``box`` (rounded), with black where the box leaves the image."""
    x1, y1, x2, y2 = (round(float(v)) for v in box)
    x2, y2 = max(x2, x1 + 1), max(y2, y1 + 1)
    crop = np.zeros((y2 - y1, x2 - x1, 3), dtype=np.uint8)
    height, width = image.shape[:2]
    sx1, sy1, sx2, sy2 = max(x1, 0), max(y1, 0), min(x2, width), min(y2, height)
    if sx2 > sx1 and sy2 > sy1:
        crop[sy1 - y1 : sy2 - y1, sx1 - x1 : sx2 - x1] = image[sy1:sy2, sx1:sx2]
    return crop


def _concat(parts: list[_Candidates]) -> _Candidates:
    if not parts:
        empty = np.zeros((0, 4))
        return _Candidates(empty, np.zeros(0), np.zeros(0, np.int64), empty)
    return _Candidates(*(np.concatenate([getattr(p, f) for p in parts])
                         for f in ("boxes", "scores", "image_index", "offsets")))
