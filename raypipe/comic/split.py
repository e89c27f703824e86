"""One comic page -> its panels in reading order, text kept from detectors: what the pipeline runs per page.

Balloons and lettering are found on the whole page (they may straddle panel borders), panels by
the learned page model with the rules' edges (the rules see the page with the balloons erased).
How the text inside a panel is kept from face detectors is the ``text_mode`` (:data:`TEXT_MODES`):
``mask`` paints the balloons and lettering over, ``lettering`` paints the lettering only,
``filter`` leaves the crop whole and drops a face whose box lies mostly in text,
``lettering-filter`` (the default) paints the lettering and drops faces mostly in text, ``none``
does neither. Faces found in a crop go back to page coordinates with :func:`face_to_page`.

What the panels leave uncovered is searched too, so that a panel the finder missed loses no
face: when the uncovered area holds room for a face with ink in it (:data:`ROOM_FOR_A_FACE`,
:data:`INK_FOR_A_FACE`), the whole page is one more crop (text handled the same way) whose
faces count only when their centre lies outside every found panel and they are not a face a
panel crop found already; their panel index is :data:`~raypipe.ids.OUTSIDE_PANELS`.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from raypipe.comic.page_model import find_panels
from raypipe.comic.panels import Box
from raypipe.comic.slivers import paper_mask, paper_tone
from raypipe.comic.text import detect_balloons, detect_text_regions, mask_regions
from raypipe.detect.base import Detector, Face
from raypipe.detect.boxes import boxes_overlap
from raypipe.ids import OUTSIDE_PANELS

#: How text is kept from the face detector (see the module docstring).
TEXT_MODES = ("mask", "lettering", "filter", "lettering-filter", "none")
#: Under ``filter``, a face is dropped when more than this share of its box is text.
MOST_IN_TEXT = 0.5
#: The page outside the found panels is searched when it holds a square of this share of the
#: page's long side (room for a face; fixed before measuring, docs/comic.md): the margins and
#: gutters of a page whose panels were all found hold none.
ROOM_FOR_A_FACE = 0.05
#: ... and when that square holds this share of ink (pixels that are not paper,
#: :func:`~raypipe.comic.slivers.paper_mask`; fixed before measuring, docs/comic.md).
INK_FOR_A_FACE = 0.02
#: A face found outside the panels is the one a panel crop found when more than this share of
#: the smaller of the two boxes lies in the other (a face cut by the panel's border).
SAME_FACE = 0.5


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

    @property
    def is_panel(self) -> bool:
        """False for the crop of what the panels leave uncovered (the whole page)."""
        return self.index != OUTSIDE_PANELS


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
    panels are found (see :func:`raypipe.comic.page_model.find_panels`). Last, when what the
    panels leave uncovered has room for a face, the whole page (index ``OUTSIDE_PANELS``).

    A page without detectable panels gives one crop: the whole page.
    """
    text = PageText.find(rgb) if text is None else text
    if text_mode not in TEXT_MODES:
        raise ValueError(f"text_mode must be one of {', '.join(TEXT_MODES)}, not {text_mode!r}")
    found = find_panels(rgb, right_to_left, text.balloons, panels)
    boxes = [(panel.index, panel.box) for panel in found]
    if has_room_outside(rgb, [box for _, box in boxes]):
        boxes.append((OUTSIDE_PANELS, (0, 0, rgb.shape[1], rgb.shape[0])))
    return [_crop(rgb, index, box, text, text_mode) for index, box in boxes]


def has_room_outside(rgb: np.ndarray, panels: list[Box]) -> bool:
    """Whether the part of an RGB page that no box of ``panels`` covers holds a square of side
    :data:`ROOM_FOR_A_FACE` times the page's long side with ink in it (:data:`INK_FOR_A_FACE`:
    a blank margin holds no face)."""
    uncovered = np.ones(rgb.shape[:2], np.uint8)
    for x1, y1, x2, y2 in (tuple(round(v) for v in box) for box in panels):
        uncovered[max(y1, 0) : y2, max(x1, 0) : x2] = 0
    if not uncovered.any():
        return False
    framed = cv2.copyMakeBorder(uncovered, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)  # the page ends
    half_side = cv2.distanceTransform(framed, cv2.DIST_C, 3)[1:-1, 1:-1]  # chessboard: half a square
    side = max(1, round(ROOM_FOR_A_FACE * max(rgb.shape[:2])))
    centres = 2 * half_side >= side
    if not centres.any():
        return False
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    ink = (~paper_mask(grey, paper_tone(grey))).astype(np.float32)
    ink_share = cv2.boxFilter(ink, -1, (side, side), borderType=cv2.BORDER_CONSTANT)
    return bool((ink_share[centres] >= INK_FOR_A_FACE).any())


def _crop(rgb: np.ndarray, index: int, box: Box, text: PageText, text_mode: str) -> PanelCrop:
    """The crop ``box`` of a page, its text handled as ``text_mode`` says."""
    regions = text.balloons + text.lettering
    painted = text.lettering if text_mode.startswith("lettering") else []
    painted = regions if text_mode == "mask" else painted
    x1, y1, x2, y2 = box
    image = rgb[y1:y2, x1:x2]
    paint = [_shift(region, -x1, -y1) for region in painted if boxes_overlap(region, box)]
    if paint:
        image = mask_regions(image, paint)
    inside = [region for region in regions if boxes_overlap(region, box)]
    return PanelCrop(index, box, np.ascontiguousarray(image), inside, text_mode.endswith("filter"))


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
    less those mostly in text where a crop says so (``drop_faces_in_text``). In the crop of the
    uncovered area (not :attr:`PanelCrop.is_panel`) only faces centred outside every panel
    count, and not one a panel crop found (:data:`SAME_FACE`)."""
    panels = [crop.box for crop in crops if crop.is_panel]
    found = []
    for crop in sorted(crops, key=lambda c: not c.is_panel):  # the panels' faces first
        for face in (face_to_page(f, crop) for f in detector.detect(crop.image)):
            if crop.drop_faces_in_text and text_share(face.box, crop.text_boxes) > MOST_IN_TEXT:
                continue
            if not crop.is_panel and (
                any(_contains(panel, _centre(face.box)) for panel in panels)
                or any(_smaller_share(face.box, other.box) > SAME_FACE for _, other in found)
            ):
                continue
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


def _centre(box) -> tuple[float, float]:
    return (box[0] + box[2]) / 2, (box[1] + box[3]) / 2


def _contains(box: Box, point: tuple[float, float]) -> bool:
    return box[0] <= point[0] < box[2] and box[1] <= point[1] < box[3]


def _smaller_share(a, b) -> float:
    """Share of the smaller of boxes ``a`` and ``b`` that lies in the other."""
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return max(width, 0) * max(height, 0) / max(smaller, 1e-9)


def _shift(box: Box, dx: int, dy: int) -> Box:
    return box[0] + dx, box[1] + dy, box[2] + dx, box[3] + dy
