"""Recognise a folder of aligned face crops (a face dataset, a run's exported chips) from a few of its
images, so that it is read with ``detector: aligned`` instead of being detected again."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from raypipe.registry import split_spec

log = logging.getLogger(__name__)

#: Images sampled, evenly spread over the listing.
SAMPLE_SIZE = 8
#: A crop's longer side is at most this many pixels ...
CROP_MAX_SIDE = 256
#: ... and at most this many times its shorter side.
CROP_MAX_ASPECT = 1.25
#: A face "fills the frame" when the detector's box side is at least this share of the image side
#: and its centre lies within ``CENTRE_TOLERANCE`` of the image side from the image centre.
MIN_FACE_FILL = 0.6
CENTRE_TOLERANCE = 0.15
#: Share of the sampled images that must be filled by one face.
MIN_FILLED_SHARE = 0.75


def face_fill(image: np.ndarray, detector) -> float:
    """Side of the largest centred face box over the image side (0 when there is none)."""
    h, w = image.shape[:2]
    side = float(max(h, w))
    fills = [0.0]
    for face in detector.detect(image):
        x1, y1, x2, y2 = face.box
        off_centre = max(abs((x1 + x2) / 2 - w / 2), abs((y1 + y2) / 2 - h / 2)) / side
        if off_centre <= CENTRE_TOLERANCE:
            fills.append(max(x2 - x1, y2 - y1) / side)
    return max(fills)


def crop_verdict(images: list[np.ndarray], detector=None) -> tuple[bool, str]:
    """``(True, why)`` when every image is small and square and most are filled by one centred
    face (found by dlib's HOG detector unless ``detector`` is given); else ``(False, why not)``."""
    if not images:
        return False, "no image could be read"
    for image in images:
        h, w = image.shape[:2]
        if max(h, w) > CROP_MAX_SIDE or max(h, w) > CROP_MAX_ASPECT * min(h, w):
            return False, f"a {w}x{h} image is not a small square crop"
    if detector is None:
        from raypipe.detect.dlib import DlibHogDetector

        detector = DlibHogDetector(upsample=1)
    fills = [face_fill(image, detector) for image in images]
    filled = sum(fill >= MIN_FACE_FILL for fill in fills)
    summary = f"{filled} of {len(images)} sampled images filled by one face (median fill {np.median(fills):.2f})"
    return filled >= MIN_FILLED_SHARE * len(images), summary


#: How many of the first inputs the crop check samples from (the listing is never made whole).
CROP_SAMPLE_POOL = 256


def sample_images(uris: list[str], max_pixels: int) -> list[np.ndarray]:
    """Up to :data:`SAMPLE_SIZE` decoded images, evenly spread over ``uris`` (unreadable ones skipped)."""
    from raypipe.comic.archives import read_page
    from raypipe.io.decode import DecodeError, decode_image

    picks = sorted({round(i) for i in np.linspace(0, len(uris) - 1, min(SAMPLE_SIZE, len(uris)))})
    images = []
    for i in picks:
        try:
            images.append(decode_image(read_page(uris[i]), max_pixels, CROP_MAX_SIDE * 4).pixels)
        except (DecodeError, OSError):
            continue
    return images


def choose_crop_detector(spec: dict[str, Any], uris: list[str], max_pixels: int) -> dict[str, Any]:
    """``detector: aligned`` when ``spec`` is the unparameterised ``auto`` default and the inputs
    look like aligned crops (logged with the evidence); else ``spec``."""
    name, params = split_spec(spec)
    if name != "auto" or params or not uris:
        return spec
    is_crops, why = crop_verdict(sample_images(uris, max_pixels))
    if not is_crops:
        log.debug("inputs are not aligned crops: %s", why)
        return spec
    log.info(
        "detector: aligned (the inputs look like aligned face crops: small square images, %s); "
        "set extract.detect_crops=false to detect faces in them instead", why,
    )  # fmt: skip
    return {"name": "aligned"}
