"""Comic pages split into panels (text kept from detection) before detection; panel and text-region rows."""

from __future__ import annotations

import logging
import traceback

from raypipe.config import Config
from raypipe.pipeline.contract import Stage
from raypipe.pipeline.work import ShardWork, append_rows, failure

log = logging.getLogger(__name__)


class PageSplitStage(Stage):
    """Gives each page's panel crops (``images.pages``, searched by the detect stage; with the
    whole page when the panels leave room for a face outside them), one ``panels`` row per
    panel (its crop as JPEG) and one ``texts`` row per text region of the page
    (its kind: a "balloon", or the "lettering" in or outside one).
    A page that cannot be split fails at ``detect``."""

    name = "split"
    timing = "detect_s"
    needs = frozenset({"images.pixels", "images.scale"})
    gives = frozenset({"images.pages", "panels.panel_index", "panels.box", "panels.chip_jpeg", "texts.kind", "texts.box"})

    def __init__(self, config: Config):
        self.right_to_left, self.text_mode = config.comic.right_to_left, config.comic.text_mode
        self.panels = config.comic.panels

    def process(self, work: ShardWork) -> None:
        from raypipe.comic.split import PageText, split_page
        from raypipe.pipeline.stages.align import jpeg

        work.images["pages"] = [None] * len(work.images["status"])
        append_rows(work.panels, panel_index=[], box=[], chip_jpeg=[])
        append_rows(work.texts, kind=[], box=[])
        for index in work.live():
            pixels, scale = work.images["pixels"][index], work.images["scale"][index]
            try:
                text = PageText.find(pixels)
                crops = split_page(pixels, self.right_to_left, self.text_mode, text, self.panels)
            except Exception as err:  # noqa: BLE001 - one page that cannot be split must not stop the run
                log.warning("panel split failed on %s:\n%s", work.images["image_path"][index], traceback.format_exc())
                work.fail(index, "detect", failure(err))
                continue
            work.images["pages"][index] = crops
            found = [crop for crop in crops if crop.is_panel]  # not the page searched around them
            append_rows(work.panels, image=[index] * len(found), panel_index=[c.index for c in found],
                        box=[scaled_box(c.box, scale) for c in found], chip_jpeg=[jpeg(c.image) for c in found])  # fmt: skip
            kinds = ["balloon"] * len(text.balloons) + ["lettering"] * len(text.lettering)
            boxes = [scaled_box(box, scale) for box in text.balloons + text.lettering]
            append_rows(work.texts, image=[index] * len(boxes), kind=kinds, box=boxes)


def scaled_box(box, scale: float) -> tuple[float, float, float, float]:
    """A box in decoded pixels, in original pixels."""
    return tuple(float(v) * scale for v in box)
