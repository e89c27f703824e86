"""Batched image augmentations for contrastive training on drawn and photographed faces.

Geometry (crop, scale, shift, small rotation, mirror) varies a lot; colour varies only a little,
because hair and eye colours are what tell drawn characters apart: a SimCLR model trained with
strong hue jitter learns to ignore them. Line weight (dark strokes thickened or thinned, as
pens and scans differ) is off unless asked for.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass
class Augment:
    """Random views of a batch of (N, 3, S, S) images in [0, 1]."""

    min_scale: float = 0.6
    max_shift: float = 0.15
    max_rotation_deg: float = 15.0
    flip: bool = True
    brightness: float = 0.2
    contrast: float = 0.2
    saturation: float = 0.2
    grey_probability: float = 0.1
    blur_probability: float = 0.2
    line_weight_probability: float = 0.0

    def __call__(
        self, images: torch.Tensor, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        views = self._geometry(images, generator)
        views = self._colour(views, generator)
        views = self._line_weight(views, generator)
        return self._blur(views, generator).clamp_(0.0, 1.0)

    def _rand(
        self, n: int, low: float, high: float, images: torch.Tensor, generator
    ) -> torch.Tensor:
        return (
            torch.rand(n, generator=generator, device="cpu").to(images.device) * (high - low) + low
        )

    def _geometry(self, images: torch.Tensor, generator) -> torch.Tensor:
        n = images.shape[0]
        scale = self._rand(n, self.min_scale, 1.0, images, generator)
        angle = self._rand(n, -1.0, 1.0, images, generator) * math.radians(self.max_rotation_deg)
        shift = torch.stack([self._rand(n, -1.0, 1.0, images, generator) for _ in range(2)], dim=1)
        mirror = torch.ones(n, device=images.device)
        if self.flip:
            mirror = torch.where(self._rand(n, 0.0, 1.0, images, generator) < 0.5, -mirror, mirror)
        cos, sin = torch.cos(angle) * scale, torch.sin(angle) * scale
        theta = torch.stack(
            [
                torch.stack([cos * mirror, -sin, shift[:, 0] * self.max_shift], dim=1),
                torch.stack([sin * mirror, cos, shift[:, 1] * self.max_shift], dim=1),
            ],
            dim=1,
        )
        grid = F.affine_grid(theta, list(images.shape), align_corners=False)
        return F.grid_sample(images, grid, padding_mode="reflection", align_corners=False)

    def _colour(self, images: torch.Tensor, generator) -> torch.Tensor:
        n = images.shape[0]

        def factor(strength: float) -> torch.Tensor:
            return self._rand(n, 1.0 - strength, 1.0 + strength, images, generator).view(n, 1, 1, 1)

        grey = (
            images * torch.tensor([0.299, 0.587, 0.114], device=images.device).view(1, 3, 1, 1)
        ).sum(dim=1, keepdim=True)
        images = images * factor(self.brightness)
        mean = grey.mean(dim=(2, 3), keepdim=True)
        images = (images - mean) * factor(self.contrast) + mean
        images = grey + (images - grey) * factor(self.saturation)
        to_grey = (self._rand(n, 0.0, 1.0, images, generator) < self.grey_probability).view(
            n, 1, 1, 1
        )
        return torch.where(to_grey, grey.expand_as(images), images)

    def _blur(self, images: torch.Tensor, generator) -> torch.Tensor:
        n = images.shape[0]
        blurred = F.avg_pool2d(F.pad(images, (1, 1, 1, 1), mode="reflect"), 3, stride=1)
        chosen = (self._rand(n, 0.0, 1.0, images, generator) < self.blur_probability).view(
            n, 1, 1, 1
        )
        return torch.where(chosen, blurred, images)

    def _line_weight(self, images: torch.Tensor, generator) -> torch.Tensor:
        """Dark strokes one pixel thicker (a 3x3 minimum) or thinner (maximum), half each."""
        if self.line_weight_probability <= 0:
            return images
        n = images.shape[0]
        padded = F.pad(images, (1, 1, 1, 1), mode="replicate")
        thicker = -F.max_pool2d(-padded, 3, stride=1)
        thinner = F.max_pool2d(padded, 3, stride=1)
        draw = self._rand(n, 0.0, 1.0, images, generator).view(n, 1, 1, 1)
        changed = torch.where(draw < self.line_weight_probability / 2, thicker, thinner)
        return torch.where(draw < self.line_weight_probability, changed, images)
