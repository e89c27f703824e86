"""Detector pre- and post-processing as batched torch operations, on whichever device holds the
tensors: letterboxing images into a fixed canvas, cutting resized box crops, and greedy
non-maximum suppression without a Python loop over boxes."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def torch_device(device: str) -> torch.device:
    """``auto`` -> CUDA when available, else CPU; otherwise the device named."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def to_device(image: np.ndarray, device: torch.device) -> torch.Tensor:
    """An RGB uint8 ``(H, W, 3)`` image as a uint8 ``(1, 3, H, W)`` tensor on ``device`` (channels
    last in memory: no copy on the CPU)."""
    return (
        torch.from_numpy(np.require(image, requirements=("C", "W")))
        .to(device)
        .permute(2, 0, 1)[None]
    )


def letterbox(
    images: list[torch.Tensor], width: int, height: int, fill: float = 0.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(N, C, height, width)`` float canvas holding each ``(1, C, h, w)`` image resized to fit,
    aspect kept, at the top left (the rest ``fill``), and each image's factor from image to canvas
    pixels. On the CPU uint8 images are resized as uint8 (torch's fast path), then converted."""
    canvas = torch.full(
        (len(images), images[0].shape[1], height, width), fill, device=images[0].device
    )
    scales = []
    for i, image in enumerate(images):
        h, w = image.shape[2:]
        scale = min(width / w, height / h)
        size = (max(1, min(height, round(h * scale))), max(1, min(width, round(w * scale))))
        source = image if image.device.type == "cpu" else image.float()
        canvas[i, :, : size[0], : size[1]] = F.interpolate(
            source, size=size, mode="bilinear", align_corners=False, antialias=scale < 1
        )[0]
        scales.append(scale)
    return canvas, torch.tensor(scales, device=canvas.device)


def crop_and_resize(image: torch.Tensor, boxes: torch.Tensor, size: int) -> torch.Tensor:
    """``(m, C, size, size)`` float bilinear crops of a ``(1, C, H, W)`` image under ``(m, 4)``
    xyxy pixel boxes; outside the image reads as zero."""
    if not len(boxes):
        return boxes.new_zeros((0, image.shape[1], size, size))
    # only the part under the boxes (and a pixel around) is converted to float
    low = (boxes[:, :2].amin(dim=0).floor() - 1).clamp(min=0).int().tolist()
    high = (boxes[:, 2:].amax(dim=0).ceil() + 1).int().tolist()
    image = image[
        :, :, low[1] : max(high[1], low[1] + 1), low[0] : max(high[0], low[0] + 1)
    ].float()
    boxes = boxes - boxes.new_tensor(low).repeat(2)
    height, width = image.shape[2:]
    steps = (torch.arange(size, device=image.device, dtype=image.dtype) + 0.5) / size
    x = boxes[:, None, 0:1] + steps[None, :, None] * (boxes[:, None, 2:3] - boxes[:, None, 0:1])
    y = boxes[:, None, 1:2] + steps[None, :, None] * (boxes[:, None, 3:4] - boxes[:, None, 1:2])
    # normalised coordinates (align_corners=False): -1 and 1 are the outer pixel edges
    gx = (2 * x / width - 1).reshape(-1, 1, size).expand(-1, size, size)
    gy = (2 * y / height - 1).reshape(-1, size, 1).expand(-1, size, size)
    grid = torch.stack([gx, gy], dim=-1).reshape(1, -1, size, 2)
    crops = F.grid_sample(
        image, grid.to(image.dtype), mode="bilinear", padding_mode="zeros", align_corners=False
    )
    return crops.reshape(image.shape[1], len(boxes), size, size).permute(1, 0, 2, 3)


def pairwise_overlap(boxes: torch.Tensor, by_min: bool = False) -> torch.Tensor:
    """``(..., k, k)`` intersection over union of the ``(..., k, 4)`` xyxy boxes with each other
    (over the smaller area when ``by_min``)."""
    top_left = torch.maximum(boxes[..., :, None, :2], boxes[..., None, :, :2])
    bottom_right = torch.minimum(boxes[..., :, None, 2:], boxes[..., None, :, 2:])
    inter = (bottom_right - top_left).clamp(min=0).prod(dim=-1)
    area = (boxes[..., 2:] - boxes[..., :2]).clamp(min=0).prod(dim=-1)
    if by_min:
        return inter / torch.minimum(area[..., :, None], area[..., None, :]).clamp(min=1e-12)
    return inter / (area[..., :, None] + area[..., None, :] - inter).clamp(min=1e-12)


def batched_nms(boxes: torch.Tensor, scores: torch.Tensor, valid: torch.Tensor, threshold: float,
                by_min: bool = False) -> torch.Tensor:  # fmt: skip
    """Which of ``(N, k)`` candidates greedy non-maximum suppression keeps, per image at once.

    ``boxes`` ``(N, k, 4)`` and ``scores`` ``(N, k)`` hold each image's candidates, ``valid`` marks
    the real ones (padding never suppresses). Cluster-NMS (Zheng et al., 2021): a box is kept when
    no kept box of higher score overlaps it by more than ``threshold``; iterating that rule from
    "all kept" reaches greedy NMS's exact answer, in a few batched steps rather than one per box.
    """
    order = scores.masked_fill(~valid, float("-inf")).argsort(dim=1, descending=True)
    boxes = boxes.gather(1, order[..., None].expand(-1, -1, 4))
    valid_sorted = valid.gather(1, order)
    overlaps = (
        pairwise_overlap(boxes, by_min).triu(diagonal=1) > threshold
    )  # [i, j]: better i hits j
    keep = valid_sorted
    for _ in range(boxes.shape[1]):
        suppressed = (overlaps & keep[:, :, None]).any(dim=1)
        updated = valid_sorted & ~suppressed
        if torch.equal(updated, keep):
            break
        keep = updated
    return torch.zeros_like(valid).scatter(1, order, keep)


def grouped_nms(boxes: torch.Tensor, scores: torch.Tensor, groups: torch.Tensor, threshold: float,
                by_min: bool = False) -> torch.Tensor:  # fmt: skip
    """Mask of the ``(m, 4)`` boxes kept by greedy NMS within each group (e.g. image index):
    the flat candidates are laid out as one padded row per group for :func:`batched_nms`."""
    if not len(boxes):
        return torch.zeros(0, dtype=torch.bool, device=boxes.device)
    order = torch.argsort(groups, stable=True)
    group = groups[order]
    counts = torch.bincount(group)
    position = (
        torch.arange(len(group), device=boxes.device) - (torch.cumsum(counts, 0) - counts)[group]
    )
    shape = (len(counts), int(counts.max()))
    padded = boxes.new_zeros((*shape, 4))
    padded[group, position] = boxes[order]
    padded_scores = scores.new_zeros(shape)
    padded_scores[group, position] = scores[order]
    valid = torch.zeros(shape, dtype=torch.bool, device=boxes.device)
    valid[group, position] = True
    keep = torch.zeros(len(boxes), dtype=torch.bool, device=boxes.device)
    keep[order] = batched_nms(padded, padded_scores, valid, threshold, by_min)[group, position]
    return keep
