"""One comic page -> its panels in reading order, text kept from detectors: what the pipeline runs per page.

Balloons and lettering are found on the whole page (they may straddle panel borders), panels by
the learned page model with the rules' edges (the rules see the page with the balloons erased).
How the text inside a panel is kept from face detectors is the ``text_mode`` (:data:`TEXT_MODES`):
``mask`` paints the balloons and lettering over, ``lettering`` paints the lettering only,
``filter`` leaves the crop whole and drops a face whose box lies mostly in text,
``lettering-filter`` (the default) paints the lettering and drops faces mostly in text, ``none``
does neither. Faces found in a crop go back to page coordinates with :func:`face_to_page`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from raypipe.comic.page_model import find_panels
from raypipe.comic.panels import Box
from raypipe.comic.text import detect_balloons, detect_text_regions, mask_regions
from raypipe.detect.base import Detector, Face

#: How text is kept from the face detector (see the module docstring).
TEXT_MODES = ("mask", "lettering", "filter", "lettering-filter", "none")
#: Under ``filter``, a face is dropped when more than this share of its box is text.
MOST_IN_TEXT = 0.5


@dataclass(frozen=True)
class PanelCrop:
    """A panel of a page: its reading-order ``index``, its ``box`` and the ``text_boxes`` of
    balloons and lettering overlapping it (page coordinates), its pixels (text masked as the
    text mode says) and whether faces mostly in text are dropped (``drop_faces_in_text``)."""

    index: int
    box: Box
    image: np.ndarray
    text_boxes: list[Box]
    drop_faces_in_text: bool = False

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
    text_mode: str = "lettering-filter",
    text: PageText | None = None,
    panels: str = "learned",
) -> list[PanelCrop]:
    """The panels of an RGB page in reading order, their text handled as ``text_mode`` says
    (:data:`TEXT_MODES`); ``text``: the page's text regions, found when None; ``panels``: how
    panels are found (see :func:`raypipe.comic.page_model.find_panels`).

    A page without detectable panels gives one crop: the whole page.
    """
    text = PageText.find(rgb) if text is None else text
    regions = text.balloons + text.lettering
    if text_mode not in TEXT_MODES:
        raise ValueError(f"text_mode must be one of {', '.join(TEXT_MODES)}, not {text_mode!r}")
    lettering_only = text.lettering if text_mode.startswith("lettering") else []
    painted = regions if text_mode == "mask" else lettering_only
    crops = []
    for panel in find_panels(rgb, right_to_left, text.balloons, panels):
        x1, y1, x2, y2 = panel.box
        inside = [box for box in regions if _overlaps(box, panel.box)]
        image = rgb[y1:y2, x1:x2]
        paint = [_shift(box, -x1, -y1) for box in painted if _overlaps(box, panel.box)]
        if paint:
            image = mask_regions(image, paint)
        crops.append(
            PanelCrop(
                panel.index,
                panel.box,
                np.ascontiguousarray(image),
                inside,
                text_mode.endswith("filter"),
            )
        )
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
    """``(panel index, face in page coordinates)`` of every face ``detector`` finds in ``crops``,
    less those mostly in text where a crop says so (``drop_faces_in_text``)."""
    found = []
    for crop in crops:
        for face in (face_to_page(f, crop) for f in detector.detect(crop.image)):
            if not (
                crop.drop_faces_in_text and text_share(face.box, crop.text_boxes) > MOST_IN_TEXT
            ):
                found.append((crop.index, face))
    return found


def text_share(box, text_boxes: list[Box]) -> float:
    """Share of ``box``'s area covered by the union of ``text_boxes`` (same coordinates)."""
    x1, y1, x2, y2 = (round(v) for v in box)
    if x2 <= x1 or y2 <= y1:
        return 0.0
    covered = np.zeros((y2 - y1, x2 - x1), dtype=bool)
    for tx1, ty1, tx2, ty2 in (tuple(round(v) for v in t[:4]) for t in text_boxes):
        covered[max(ty1 - y1, 0) : max(ty2 - y1, 0), max(tx1 - x1, 0) : max(tx2 - x1, 0)] = True
    return float(covered.mean())


def _overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _shift(box: Box, dx: int, dy: int) -> Box:
    return box[0] + dx, box[1] + dy, box[2] + dx, box[3] + dy
