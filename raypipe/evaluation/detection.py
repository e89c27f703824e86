"""Scoring detectors against true face boxes: dlib's XML annotations and IoU matching.

>>> match_detections(np.array([[0, 0, 10, 10], [50, 50, 60, 60]]), np.array([[1, 1, 10, 10]]))
(1, 1, 0)
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from raypipe.detect.boxes import box_iou


def load_dlib_annotations(xml_path: str | Path) -> dict[str, np.ndarray]:
    """True boxes of a dlib imglab XML file, keyed by each ``<image file=...>`` name.

    Boxes are float64 ``(n, 4)`` arrays of ``x1, y1, x2, y2`` pixels (``x2 = left + width``).
    Boxes marked ``ignore='1'`` are left out.
    """
    root = ET.parse(xml_path).getroot()
    annotations: dict[str, np.ndarray] = {}
    for image in root.iter("image"):
        boxes = [
            [float(box.get(k)) for k in ("left", "top", "width", "height")]
            for box in image.iter("box")
            if box.get("ignore", "0") != "1"
        ]
        ltwh = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        ltwh[:, 2:] += ltwh[:, :2]
        annotations[image.get("file")] = ltwh
    return annotations


def match_detections(
    pred_boxes: np.ndarray, true_boxes: np.ndarray, iou: float = 0.5
) -> tuple[int, int, int]:
    """Count ``(true positives, false positives, false negatives)`` of one image.

    Predictions are taken best first (the order given, as detectors return them); each one
    claims the unclaimed true box it overlaps most, if that overlap reaches ``iou`` (the PASCAL
    VOC rule). A true box claimed twice counts the second prediction as a false positive.
    """
    overlaps = box_iou(pred_boxes, true_boxes)
    claimed = np.zeros(overlaps.shape[1], dtype=bool)
    tp = 0
    for row in overlaps:
        candidates = np.where(claimed, -1.0, row)
        if candidates.size and candidates.max() >= iou:
            claimed[int(candidates.argmax())] = True
            tp += 1
    return tp, overlaps.shape[0] - tp, overlaps.shape[1] - tp


def annotated_images(
    image_dir: str | Path, xml_paths: list[str | Path], prefix: str = ""
) -> dict[Path, np.ndarray]:
    """True boxes of several dlib XML files, keyed by the image file in ``image_dir``.

    ``prefix`` is prepended to each annotated file name (the shared ``groups/`` folder stores
    dlib's ``2008_002470.jpg`` as ``dlib_2008_002470.jpg``). A missing image is an error.
    """
    truth: dict[Path, np.ndarray] = {}
    for xml_path in xml_paths:
        for name, boxes in load_dlib_annotations(xml_path).items():
            path = Path(image_dir) / f"{prefix}{name}"
            if not path.is_file():
                raise FileNotFoundError(f"{xml_path} annotates {name}, but {path} is missing")
            truth[path] = boxes
    return truth
