"""Drawn (anime / manga) faces with nagadomi's LBP cascade, ``lbpcascade_animeface.xml``.

Optional: the comic default is raypipe's own ``drawn-faces`` (:mod:`raypipe.detect.drawn`).
raypipe does not ship the cascade file (no licence is stated for it); download it from
https://github.com/nagadomi/lbpcascade_animeface and give its path::

    detector: {name: anime-cascade, cascade_path: /models/lbpcascade_animeface.xml}
"""

from __future__ import annotations

from pathlib import Path

from raypipe.detect.haar import HaarDetector
from raypipe.registry import ComponentError

DOWNLOAD_HINT = (
    "download lbpcascade_animeface.xml from https://github.com/nagadomi/lbpcascade_animeface "
    "and set the detector's cascade_path"
)


class AnimeCascadeDetector(HaarDetector):
    """The anime-face LBP cascade at ``cascade_path``; no landmarks, best face first.

    ``scale_factor``, ``min_neighbors``, ``min_size`` and ``equalize`` are those of
    :class:`~raypipe.detect.haar.HaarDetector`. ``scale_factor``, ``min_neighbors`` and
    ``equalize`` were chosen by F1 on 20 composed pages of 5 anime characters and are reported
    on 20 pages of 5 others (``python bench/comic_tune.py --pages 20``); figures, against the
    author's settings and against ``drawn-faces``: docs/drawn-detection.md.
    """

    def __init__(
        self,
        cascade_path: str | None = None,
        scale_factor: float = 1.05,
        min_neighbors: int = 5,
        min_size: int = 24,
        equalize: bool = False,
    ):
        if not cascade_path:
            raise ComponentError(f"anime-cascade needs cascade_path: {DOWNLOAD_HINT}")
        path = Path(cascade_path).expanduser()
        if not path.is_file():
            raise ComponentError(f"anime cascade {str(path)!r} does not exist: {DOWNLOAD_HINT}")
        super().__init__(str(path), scale_factor, min_neighbors, min_size, equalize)
        self.cascade_path = str(path)
