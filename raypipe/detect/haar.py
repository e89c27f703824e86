"""OpenCV cascade classifiers: the Haar frontal-face cascade (Viola-Jones) or any cascade file."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from raypipe.detect.base import Detector, Face
from raypipe.registry import ComponentError


class HaarDetector(Detector):
    """OpenCV ``CascadeClassifier.detectMultiScale`` on the grey image. No landmarks.

    Parameters
    ----------
    cascade : a file name in ``cv2.data.haarcascades`` (default: the frontal-face cascade) or the
        path of any cascade XML (e.g. an LBP anime-face cascade).
    scale_factor : ratio between the window sizes searched (smaller: slower, finds more).
    min_neighbors : overlapping raw hits needed to keep a face. OpenCV's usual 5 finds most
        faces but also textures; some seed systems raised it to 45 to cut false positives on
        busy photos at the cost of smaller and side-lit faces.
    min_size : smallest face side searched, in pixels.
    equalize : equalise the grey histogram first (helps dark or flat photos).

    Faces are ordered by the cascade's confidence (the last stage's weight), best first.
    """

    def __init__(
        self,
        cascade: str = "haarcascade_frontalface_default.xml",
        scale_factor: float = 1.1,
        min_neighbors: int = 5,
        min_size: int = 24,
        equalize: bool = False,
    ):
        path = Path(cascade).expanduser()
        if not path.is_file():
            path = Path(cv2.data.haarcascades) / cascade
        self._cascade = cv2.CascadeClassifier(str(path))
        if self._cascade.empty():
            raise ComponentError(f"cannot load cascade {cascade!r} (looked for {path})")
        self.cascade = str(path)
        self.scale_factor = float(scale_factor)
        self.min_neighbors = int(min_neighbors)
        self.min_size = int(min_size)
        self.equalize = bool(equalize)

    def detect(self, image: np.ndarray) -> list[Face]:
        grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        if self.equalize:
            grey = cv2.equalizeHist(grey)
        rects, _, weights = self._cascade.detectMultiScale3(
            grey,
            scaleFactor=self.scale_factor,
            minNeighbors=self.min_neighbors,
            minSize=(self.min_size, self.min_size),
            outputRejectLevels=True,
        )
        faces = [
            Face((float(x), float(y), float(x + w), float(y + h)), float(score))
            for (x, y, w, h), score in zip(np.reshape(rects, (-1, 4)), np.ravel(weights))
        ]
        return sorted(faces, key=lambda face: -face.score)
