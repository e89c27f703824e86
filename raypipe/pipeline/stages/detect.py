"""Face detection over a shard's images in batches (comic pages: panel by panel)."""

from __future__ import annotations

import logging
import traceback

from raypipe.config import Config
from raypipe.detect import DETECTORS
from raypipe.pipeline.contract import ModelStage
from raypipe.pipeline.work import ShardWork, append_rows, failure

log = logging.getLogger(__name__)


def guarded(work: ShardWork, index: int, stage: str, function, *args):
    """``function(*args)``, or ``None`` with image ``index`` failed at ``stage`` when it raises."""
    try:
        return function(*args)
    except Exception as err:  # noqa: BLE001 - a model failing on one image must not stop the run
        log.warning("%s failed on %s:\n%s", stage, work.images["image_path"][index], traceback.format_exc())
        work.fail(index, stage, failure(err))
        return None


class DetectStage(ModelStage):
    """Gives one ``faces`` row per face found: its image, its panel (``-1`` off comic pages,
    :data:`~raypipe.ids.OUTSIDE_PANELS` outside every panel of a comic page) and
    the :class:`~raypipe.detect.base.Face` in decoded pixels. Images go to the detector
    ``extract.detect_batch_size`` at a time; a batch that fails is retried image by image, so
    only the image at fault fails (at ``detect``)."""

    name = "detect"
    registry = DETECTORS
    needs = frozenset({"images.pixels"})
    gives = frozenset({"faces.image", "faces.panel_index", "faces.face"})

    def __init__(self, config: Config, panels: bool):
        self.spec, self.batch_size, self.panels = config.extract.detector, config.extract.detect_batch_size, panels
        self.needs = frozenset({"images.pages" if panels else "images.pixels"})

    def process(self, work: ShardWork) -> None:
        append_rows(work.faces, image=[], panel_index=[], face=[])
        live = work.live()
        for first in range(0, len(live), self.batch_size):
            for index, found in zip(live[first : first + self.batch_size], self._detect(work, live[first : first + self.batch_size])):
                if found is not None:
                    panels = [panel for panel, _ in found] if self.panels else [-1] * len(found)
                    faces = [face for _, face in found] if self.panels else found
                    append_rows(work.faces, image=[index] * len(faces), panel_index=panels, face=faces)

    def _detect(self, work: ShardWork, batch: list[int]) -> list:
        if self.panels:
            from raypipe.comic.split import detect_in_panels

            return [guarded(work, i, "detect", detect_in_panels, work.images["pages"][i], self.model) for i in batch]
        try:
            return self.model.detect_batch([work.images["pixels"][i] for i in batch])
        except Exception:  # noqa: BLE001 - retry image by image to isolate the failing one
            return [guarded(work, i, "detect", self.model.detect, work.images["pixels"][i]) for i in batch]
