"""MTCNN face detector (Zhang et al., 2016): a P-Net/R-Net/O-Net cascade with five landmarks.

Each stage is batched over all images given and runs on the detector's device: the pyramid is
resized there, P-Net runs once per scale on every image of the same size stacked, candidates
stay tensors (thresholds, regression, squaring and grouped non-maximum suppression in torch),
and R-Net/O-Net score the candidate crops of all images in one pass, crops cut on the device.
Only the final faces travel back.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from raypipe.detect.base import Detector, Face
from raypipe.detect.mtcnn_nets import ONet, PNet, RNet, load_network
from raypipe.detect.torch_ops import crop_and_resize, grouped_nms, to_device, torch_device
from raypipe.detect.weights import mtcnn_weights

log = logging.getLogger(__name__)

#: P-Net looks at 12x12 windows with a stride of 2 pixels.
_PNET_WINDOW, _PNET_STRIDE = 12, 2
#: Crops are sampled this many times finer per side, then averaged (area resizing).
_SUPERSAMPLE = 2


@dataclass
class _Candidates:
    """Face candidates of a batch of images (tensors on the device, in image pixels)."""

    boxes: torch.Tensor  # (k, 4) xyxy
    scores: torch.Tensor  # (k,)
    image_index: torch.Tensor  # (k,) index into the batch
    offsets: torch.Tensor  # (k, 4) regression of x1, y1, x2, y2, as fractions of width/height
    landmarks: torch.Tensor | None = None  # (k, 5, 2)

    def take(self, keep: torch.Tensor) -> _Candidates:
        lm = None if self.landmarks is None else self.landmarks[keep]
        return _Candidates(self.boxes[keep], self.scores[keep], self.image_index[keep], self.offsets[keep], lm)

    def regressed(self) -> torch.Tensor:
        """Boxes moved by their predicted offsets."""
        size = (self.boxes[:, 2:] - self.boxes[:, :2]).repeat(1, 2)
        return self.boxes + self.offsets * size

    def suppressed(self, threshold: float, by_min: bool = False) -> _Candidates:
        """The candidates greedy NMS keeps within each image."""
        return self.take(grouped_nms(self.boxes, self.scores, self.image_index, threshold, by_min))


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
        pixels = [to_device(image, self.device) for image in images]
        found = self._propose(pixels)
        found = self._refine(pixels, found)
        found = self._output(pixels, found)
        return _faces(found, pixels)

    def _propose(self, pixels: list[torch.Tensor]) -> _Candidates:
        """Stage 1: P-Net over an image pyramid, per-scale then per-image NMS, squared boxes."""
        by_shape: dict[tuple[int, ...], list[int]] = defaultdict(list)
        for index, image in enumerate(pixels):
            by_shape[tuple(image.shape)].append(index)
        found = _concat([
            self._propose_same_size(torch.cat([pixels[i] for i in indices]), indices)
            for indices in by_shape.values()
        ], self.device).suppressed(0.7)  # fmt: skip
        found.boxes = _square(found.regressed())
        return found

    def _propose_same_size(self, stack: torch.Tensor, indices: list[int]) -> _Candidates:
        batch = _to_network_input(stack)
        image_index = torch.tensor(indices, device=self.device)
        height, width = stack.shape[2:]
        found = []
        for scale in self._scales(height, width):
            size = (math.ceil(height * scale), math.ceil(width * scale))
            prob, offsets = self.pnet(F.interpolate(batch, size=size, mode="area"))
            n, row, col = torch.nonzero(prob >= self.thresholds[0], as_tuple=True)
            corner = torch.stack([col, row], dim=1).float() * _PNET_STRIDE
            boxes = torch.cat([corner, corner + _PNET_WINDOW], dim=1) / scale
            level = _Candidates(boxes, prob[n, row, col], image_index[n], offsets[n, :, row, col])
            found.append(level.suppressed(0.5))
        return _concat(found, self.device)

    def _scales(self, height: int, width: int) -> list[float]:
        scale = _PNET_WINDOW / self.min_face_size
        scales = []
        while min(height, width) * scale >= _PNET_WINDOW:
            scales.append(scale)
            scale *= self.scale_factor
        return scales

    def _refine(self, pixels: list[torch.Tensor], found: _Candidates) -> _Candidates:
        """Stage 2: R-Net rescoring of the candidates' crops, NMS, regression, squared boxes."""
        if not len(found.boxes):
            return found
        found.scores, found.offsets = self.rnet(_crops(pixels, found, 24))
        found = found.take(found.scores > self.thresholds[1]).suppressed(0.7)
        found.boxes = _square(found.regressed())
        return found

    def _output(self, pixels: list[torch.Tensor], found: _Candidates) -> _Candidates:
        """Stage 3: O-Net scores, landmarks and final boxes; NMS by overlap of the smaller box."""
        if not len(found.boxes):
            found.landmarks = found.boxes.new_zeros((0, 5, 2))
            return found
        found.scores, found.offsets, points = self.onet(_crops(pixels, found, 48))
        points = points.reshape(-1, 2, 5).transpose(1, 2)  # (k, 5, [x, y]) as fractions of the box
        size = (found.boxes[:, 2:] - found.boxes[:, :2])[:, None, :]
        found.landmarks = found.boxes[:, None, :2] + points * size
        found = found.take(found.scores > self.thresholds[2])
        found.boxes = found.regressed()
        return found.suppressed(0.7, by_min=True)


def _crops(pixels: list[torch.Tensor], found: _Candidates, size: int) -> torch.Tensor:
    """Network input of each candidate's box (rounded), area-resized, zero outside its image."""
    boxes = found.boxes.round()
    boxes[:, 2:] = torch.maximum(boxes[:, 2:], boxes[:, :2] + 1)
    crops = torch.zeros((len(boxes), 3, size, size), device=boxes.device)
    for i, image in enumerate(pixels):
        mine = found.image_index == i
        fine = crop_and_resize(image, boxes[mine], size * _SUPERSAMPLE)
        crops[mine] = F.avg_pool2d(fine, _SUPERSAMPLE)
    return _to_network_input(crops)


def _faces(found: _Candidates, pixels: list[torch.Tensor]) -> list[list[Face]]:
    """Faces per image, best first, boxes clipped to their image (one transfer from the device)."""
    sides = torch.tensor([image.shape[3:1:-1] for image in pixels], device=found.boxes.device).repeat(1, 2)
    boxes = torch.minimum(found.boxes.clamp(min=0), sides[found.image_index]).cpu().numpy()
    scores, index = found.scores.cpu().numpy(), found.image_index.cpu().numpy()
    landmarks = found.landmarks.cpu().numpy().astype(np.float32)
    order = np.argsort(-scores, kind="stable")
    faces: list[list[Face]] = [[] for _ in pixels]
    for k in order:
        faces[index[k]].append(Face(tuple(float(v) for v in boxes[k]), float(scores[k]), landmarks[k]))
    return faces


def _to_network_input(pixels: torch.Tensor) -> torch.Tensor:
    return (pixels.float() - 127.5) / 128.0


def _square(boxes: torch.Tensor) -> torch.Tensor:
    """Boxes grown to squares around the same centres (side = the longer side)."""
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2
    half = (boxes[:, 2:] - boxes[:, :2]).amax(dim=1, keepdim=True) / 2
    return torch.cat([centre - half, centre + half], dim=1)


def _concat(parts: list[_Candidates], device: torch.device) -> _Candidates:
    if not parts:
        empty = torch.zeros((0, 4), device=device)
        return _Candidates(empty, torch.zeros(0, device=device), torch.zeros(0, dtype=torch.long, device=device), empty)
    return _Candidates(*(torch.cat([getattr(p, f.name) for p in parts]) for f in fields(_Candidates)[:4]))
