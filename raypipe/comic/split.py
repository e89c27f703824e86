"""One comic page -> its panels in reading order, lettering masked: what the pipeline runs per page.

Balloons and lettering are found on the whole page (they may straddle panel borders), panels by
the learned page model with the rules' edges (the rules see the page with the balloons erased);
each panel crop then has the balloons and lettering inside it painted over, so that face
detectors run on art only. Faces found in a crop go back to page
coordinates with :func:`face_to_page`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from raypipe.comic.page_model import find_panels
from raypipe.comic.panels import Box
from raypipe.comic.text import detect_balloons, detect_text_regions, mask_regions
from raypipe.detect.base import Detector, Face


@dataclass(frozen=True)
class PanelCrop:
    """A panel of a page: its reading-order ``index``, its ``box`` and the ``text_boxes`` of
    balloons and lettering overlapping it (page coordinates), and its pixels with those masked."""

    index: int
    box: Box
    image: np.ndarray
    text_boxes: list[Box]

    @property
    def origin(self) -> tuple[int, int]:
        """Page coordinates of the crop's top-left pixel."""
        return self.box[0], self.box[1]


@dataclass(frozen=True)
class PageText:
    """The text regions of a page (pixels): its ``balloons`` and its ``lettering`` (the text
    itself, in a balloon or on the art)."""

    balloons: list[Box]
    lettering: list[Box]

    @classmethod
    def find(cls, rgb: np.ndarray) -> PageText:
        """The balloons and lettering of an RGB page."""
        balloons = detect_balloons(rgb)
        return cls(balloons, detect_text_regions(rgb, balloons))


def split_page(
    rgb: np.ndarray,
    right_to_left: bool = False,
    mask_text: bool = True,
    text: PageText | None = None,
    panels: str = "hybrid",
) -> list[PanelCrop]:
    """The panels of an RGB page in reading order, each with its balloons and lettering masked
    (``mask_text``); ``text``: the page's text regions, found when None; ``panels``: how panels
    are found (see :func:`raypipe.comic.page_model.find_panels`).

    A page without detectable panels gives one crop: the whole page.
    """
    text = PageText.find(rgb) if text is None else text
    regions = text.balloons + text.lettering
    crops = []
    for panel in find_panels(rgb, right_to_left, text.balloons, panels):
        x1, y1, x2, y2 = panel.box
        inside = [box for box in regions if _overlaps(box, panel.box)]
        image = rgb[y1:y2, x1:x2]
        if mask_text and inside:
            image = mask_regions(image, [_shift(box, -x1, -y1) for box in inside])
        crops.append(PanelCrop(panel.index, panel.box, np.ascontiguousarray(image), inside))
    return crops


def face_to_page(face: Face, crop: PanelCrop) -> Face:
    """``face`` found in ``crop.image``, moved to page coordinates (box and landmarks)."""
    dx, dy = crop.origin
    landmarks = (
        None
        if face.landmarks is None
        else (face.landmarks + np.float32([dx, dy])).astype(np.float32)
    )
    x1, y1, x2, y2 = face.box
    return Face((x1 + dx, y1 + dy, x2 + dx, y2 + dy), face.score, landmarks)


def detect_in_panels(crops: list[PanelCrop], detector: Detector) -> list[tuple[int, Face]]:
    """``(panel index, face in page coordinates)`` of every face ``detector`` finds in ``crops``."""
    return [
        (crop.index, face_to_page(face, crop))
        for crop in crops
        for face in detector.detect(crop.image)
    ]


def _overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _shift(box: Box, dx: int, dy: int) -> Box:
    return box[0] + dx, box[1] + dy, box[2] + dx, box[3] + dy
