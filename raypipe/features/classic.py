"""Hand-crafted whole-chip descriptors: HOG, uniform LBP grids, HSV colour histograms, pixels."""

from __future__ import annotations

import cv2
import numpy as np

from raypipe.features.base import FeatureExtractor, normalise_histograms, square_resize, to_grey


class HOG(FeatureExtractor):
    """Histograms of oriented gradients of the grey chip resized to ``size`` x ``size``."""

    def __init__(self, *, size: int = 64, cell: int = 8, block: int = 2, bins: int = 9):
        self.size = size
        self.cell = cell
        self.block = block
        self.bins = bins

    def describe(self, chip: np.ndarray) -> np.ndarray:
        block_px = self.cell * self.block
        hog = cv2.HOGDescriptor(
            (self.size, self.size),
            (block_px, block_px),
            (self.cell, self.cell),
            (self.cell, self.cell),
            self.bins,
        )
        return hog.compute(to_grey(square_resize(chip, self.size))).ravel()


def _uniform_lookup(points: int = 8) -> np.ndarray:
    """Map every ``points``-bit LBP code to its uniform-pattern bin (the last bin: non-uniform)."""
    codes = np.arange(2**points)
    bits = (codes[:, None] >> np.arange(points)) & 1
    transitions = (bits != np.roll(bits, 1, axis=1)).sum(axis=1)
    uniform = transitions <= 2
    lookup = np.full(2**points, uniform.sum(), dtype=np.int64)
    lookup[uniform] = np.arange(uniform.sum())
    return lookup


_LBP_LOOKUP = _uniform_lookup()
_LBP_BINS = int(_LBP_LOOKUP.max()) + 1  # 58 uniform patterns + 1 "other" = 59


def uniform_lbp(grey: np.ndarray, radius: int = 1) -> np.ndarray:
    """Per-pixel uniform LBP bin (8 neighbours at ``radius``) of a grey image, border cropped."""
    g = grey.astype(np.int16)
    r = radius
    centre = g[r:-r, r:-r]
    h, w = centre.shape
    offsets = [(-r, -r), (-r, 0), (-r, r), (0, r), (r, r), (r, 0), (r, -r), (0, -r)]
    code = np.zeros_like(centre, dtype=np.int64)
    for bit, (dy, dx) in enumerate(offsets):
        neighbour = g[r + dy : r + dy + h, r + dx : r + dx + w]
        code |= (neighbour >= centre).astype(np.int64) << bit
    return _LBP_LOOKUP[code]


def grid_histograms(bins_image: np.ndarray, n_bins: int, grid: int) -> np.ndarray:
    """Histograms of ``bins_image`` values in each cell of a ``grid`` x ``grid`` split, stacked."""
    h, w = bins_image.shape
    ys = np.minimum(np.arange(h) * grid // h, grid - 1)
    xs = np.minimum(np.arange(w) * grid // w, grid - 1)
    cell = ys[:, None] * grid + xs[None, :]
    flat = (cell * n_bins + bins_image).ravel()
    return np.bincount(flat, minlength=grid * grid * n_bins).reshape(grid * grid, n_bins)


class LBP(FeatureExtractor):
    """Uniform local binary patterns, one 59-bin histogram per cell of a ``grid`` x ``grid`` split."""

    def __init__(self, *, size: int = 64, grid: int = 4, radius: int = 1):
        self.size = size
        self.grid = grid
        self.radius = radius

    def describe(self, chip: np.ndarray) -> np.ndarray:
        bins = uniform_lbp(to_grey(square_resize(chip, self.size)), self.radius)
        return normalise_histograms(grid_histograms(bins, _LBP_BINS, self.grid)).ravel()


class ColorHistogram(FeatureExtractor):
    """Joint HSV histograms (hair, eye and skin colours), one per cell of a ``grid`` split.

    Hue is circular and meaningless for grey pixels, so pixels with saturation below
    ``min_saturation`` go to ``value_bins`` extra grey bins instead of a hue bin.
    """

    def __init__(
        self,
        *,
        size: int = 64,
        hue_bins: int = 18,
        saturation_bins: int = 3,
        value_bins: int = 3,
        grid: int = 1,
        min_saturation: int = 40,
        power: float = 0.5,
    ):
        self.size = size
        self.hue_bins = hue_bins
        self.saturation_bins = saturation_bins
        self.value_bins = value_bins
        self.grid = grid
        self.min_saturation = min_saturation
        self.power = power

    def bin_image(self, chip: np.ndarray) -> tuple[np.ndarray, int]:
        """Colour bin of each pixel and the number of bins."""
        hsv = cv2.cvtColor(square_resize(chip, self.size), cv2.COLOR_RGB2HSV).astype(np.int64)
        h, s, v = hsv[..., 0], hsv[..., 1], hsv[..., 2]  # OpenCV: h in [0, 180), s, v in [0, 256)
        hue = h * self.hue_bins // 180
        sat = (
            (s - self.min_saturation).clip(0) * self.saturation_bins // (256 - self.min_saturation)
        )
        val = v * self.value_bins // 256
        coloured = (
            hue * self.saturation_bins + sat.clip(max=self.saturation_bins - 1)
        ) * self.value_bins + val
        n_coloured = self.hue_bins * self.saturation_bins * self.value_bins
        bins = np.where(s >= self.min_saturation, coloured, n_coloured + val)
        return bins, n_coloured + self.value_bins

    def describe(self, chip: np.ndarray) -> np.ndarray:
        bins, n_bins = self.bin_image(chip)
        return normalise_histograms(grid_histograms(bins, n_bins, self.grid), self.power).ravel()


class Pixels(FeatureExtractor):
    """Raw pixels in [0, 1] of the chip resized to ``size`` (grey unless ``colour``): a baseline."""

    def __init__(self, *, size: int = 32, colour: bool = False):
        self.size = size
        self.colour = colour

    def describe(self, chip: np.ndarray) -> np.ndarray:
        small = square_resize(chip, self.size)
        return (small if self.colour else to_grey(small)).ravel() / 255.0
