"""Text regions: speech balloons and captions, and the lettering in and outside them.

:func:`detect_text_regions` gives the lettering's boxes (:mod:`raypipe.comic.lettering`), helped
by the balloons :func:`detect_balloons` finds: bright closed regions holding lines of dark glyphs.

Lettering sits on paper-white ground inside an outline. The white regions of the page are
found with their holes (the dark shapes inside them); a region is a balloon when it is compact,
of balloon size, and its holes are mostly glyphs: several dark shapes of similar, small height.
A white panel holding a character fails (its big hole is not a glyph), and so does a face's
bright skin (its eyes and mouth are few and unlike each other). Lettering drawn straight on the
art, without a balloon, is not a balloon (the lettering finder finds it).
"""

from __future__ import annotations

import cv2
import numpy as np

from raypipe.comic.lettering import lettering_boxes, padded
from raypipe.comic.panels import Box


def detect_text_regions(rgb: np.ndarray, balloons: list[Box] | None = None) -> list[Box]:
    """Boxes (x1, y1, x2, y2, pixels) of the lettering of an RGB page: columns of glyphs inside
    balloons and on the art (``balloons``: those of :func:`detect_balloons`, found when None)."""
    return lettering_boxes(rgb, detect_balloons(rgb) if balloons is None else balloons)


def detect_balloons(
    rgb: np.ndarray,
    white: int = 215,
    min_area: float = 0.0005,
    max_area: float = 0.15,
    min_glyphs: int = 1,
    min_solidity: float = 0.8,
    max_ink_value: int = 120,
) -> list[Box]:
    """Boxes (x1, y1, x2, y2, pixels) of the balloons and captions of an RGB page or panel.

    Parameters
    ----------
    white : a pixel is paper when all its channels reach this value.
    min_area, max_area : balloon size limits, as fractions of the image area.
    min_glyphs : fewest glyph-like dark shapes (letters or words) a balloon must hold.
    min_solidity : area over convex-hull area (balloons and caption boxes are nearly convex).
    max_ink_value : the darker glyph pixels must have no channel above this (black lettering).
    """
    height, width = rgb.shape[:2]
    paper = np.where(rgb.min(axis=2) >= white, 255, 0).astype(np.uint8)
    contours, hierarchy = cv2.findContours(paper, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None:
        return []
    links = hierarchy[0]  # next, previous, first child, parent
    image_area = height * width
    boxes = []
    for index, contour in enumerate(contours):
        if links[index][3] != -1:  # a hole, not a white region
            continue
        area = cv2.contourArea(contour)
        if not min_area * image_area <= area <= max_area * image_area:
            continue
        hull_area = cv2.contourArea(cv2.convexHull(contour))
        if hull_area <= 0 or area / hull_area < min_solidity:
            continue
        holes = [contours[child] for child in _children(links, index)]
        glyphs = _glyphs(cv2.boundingRect(contour), holes, area, min_glyphs)
        if glyphs and _is_dark_ink(rgb, glyphs, max_ink_value):
            x, y, w, h = cv2.boundingRect(contour)
            boxes.append(padded((x, y, x + w, y + h), 3, 3, width, height))
    return boxes


def _children(links: np.ndarray, parent: int) -> list[int]:
    children, child = [], links[parent][2]
    while child != -1:
        children.append(child)
        child = links[child][0]
    return children


def _glyphs(
    region: tuple[int, int, int, int], holes: list[np.ndarray], area: float, min_glyphs: int
) -> list[np.ndarray]:
    """The glyph-like ``holes`` of a white region of ``area`` when they look like lettering
    (enough of them, of similar height, making most of the ink), else an empty list. The height
    they are compared with is their median; for shapes in one column (one line of lettering)
    it is their area-weighted median, so the dots of an ellipsis under a glyph or two do not
    set it (two eyes side by side, which are not a column, never get this)."""
    if len(holes) < min_glyphs:
        return []
    _, _, region_w, region_h = region
    rects = np.array([cv2.boundingRect(hole) for hole in holes], dtype=np.float64)
    hole_areas = np.array([max(cv2.contourArea(hole), 1.0) for hole in holes])
    heights, widths = rects[:, 3], rects[:, 2]
    glyph_like = (heights >= 4) & (heights <= 0.5 * region_h) & (widths <= 0.9 * region_w)
    if glyph_like.sum() < min_glyphs:
        return []
    typical = np.median(heights[glyph_like])
    weighted = _weighted_median(heights[glyph_like], hole_areas[glyph_like])
    centres = rects[glyph_like, 0] + rects[glyph_like, 2] / 2
    if np.ptp(centres) <= weighted / 2:
        typical = weighted
    glyphs = glyph_like & (heights >= 0.5 * typical) & (heights <= 2.0 * typical)
    ink_share = hole_areas.sum() / area
    lettering = (
        glyphs.sum() >= min_glyphs
        and hole_areas[glyphs].sum() >= 0.6 * hole_areas.sum()
        and 0.01 <= ink_share <= 0.5
    )
    return [hole for hole, is_glyph in zip(holes, glyphs) if is_glyph] if lettering else []


def _is_dark_ink(rgb: np.ndarray, glyphs: list[np.ndarray], max_value: int) -> bool:
    """True when the darkest half of the glyphs' pixels is near black in every channel
    (lettering is black ink; a mouth or blush is coloured)."""
    x, y, w, h = cv2.boundingRect(np.concatenate(glyphs))
    inside = np.zeros((h, w), dtype=np.uint8)
    cv2.drawContours(inside, glyphs, -1, 255, -1, offset=(-x, -y))
    values = rgb[y : y + h, x : x + w].max(axis=2)[inside > 0]
    return bool(values.size and np.percentile(values, 25) <= max_value)


def mask_regions(
    rgb: np.ndarray, boxes: list[Box], fill: tuple[int, int, int] | None = None, ring: int = 3
) -> np.ndarray:
    """A copy of ``rgb`` with every box painted over.

    With ``fill`` None each box takes the median colour of a ``ring``-pixel band around it (the
    art or paper it sits on), white when the box covers the whole image.
    """
    masked = rgb.copy()
    height, width = rgb.shape[:2]
    for x1, y1, x2, y2 in (tuple(round(v) for v in box) for box in boxes):
        x1, y1, x2, y2 = max(x1, 0), max(y1, 0), min(x2, width), min(y2, height)
        if x2 <= x1 or y2 <= y1:
            continue
        colour = fill if fill is not None else _surrounding_colour(rgb, (x1, y1, x2, y2), ring)
        masked[y1:y2, x1:x2] = colour
    return masked


def _surrounding_colour(rgb: np.ndarray, box: Box, ring: int) -> np.ndarray:
    """Median colour of the band of ``ring`` pixels around ``box`` (white if there is none)."""
    height, width = rgb.shape[:2]
    outer = padded(box, ring, ring, width, height)
    band = np.ones((outer[3] - outer[1], outer[2] - outer[0]), dtype=bool)
    band[box[1] - outer[1] : box[3] - outer[1], box[0] - outer[0] : box[2] - outer[0]] = False
    pixels = rgb[outer[1] : outer[3], outer[0] : outer[2]][band]
    return np.median(pixels, axis=0).astype(np.uint8) if len(pixels) else np.full(3, 255, np.uint8)


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    """The value below which half of the total weight lies."""
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cumulative, cumulative[-1] / 2)])
