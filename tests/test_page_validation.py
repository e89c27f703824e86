"""The blank check scored on validation pages: a found panel that shows nothing is a margin."""

from __future__ import annotations

import cv2
import numpy as np

from bench.page_validation import drawn_share, drop_blank


def page_with_frames(frames: list, size: tuple[int, int] = (1000, 700)) -> np.ndarray:
    """A white page with each box of ``frames`` drawn as an inked frame holding random strokes."""
    rng = np.random.default_rng(0)
    grey = np.full(size, 250, np.uint8)
    for x1, y1, x2, y2 in frames:
        for _ in range(40):
            p = (int(rng.integers(x1, x2)), int(rng.integers(y1, y2)))
            q = (int(rng.integers(x1, x2)), int(rng.integers(y1, y2)))
            cv2.line(grey, p, q, int(rng.integers(0, 120)), 3)
        cv2.rectangle(grey, (x1, y1), (x2 - 1, y2 - 1), 0, 4)
    return grey


def test_blank_margin_and_black_margin_are_dropped_drawn_panels_kept():
    grey = page_with_frames([(40, 40, 660, 900)])
    grey[:, 670:] = 10  # a black strip, like a dark page's margin
    margin, black, panel = (0, 910, 700, 1000), (672, 0, 700, 1000), (40, 40, 660, 900)
    assert drawn_share(grey, margin) == 0.0 and drawn_share(grey, black) == 0.0
    assert drawn_share(grey, panel) > 0.02
    assert drop_blank([panel, margin, black], grey, 0.01) == [panel]
    assert drop_blank([margin], grey, 0.0) == [margin]  # level 0 keeps everything


def test_a_box_grown_over_a_neighbours_border_is_still_blank():
    grey = page_with_frames([(40, 40, 660, 900)])
    strip = (40, 890, 660, 1000)  # the foot margin, grown 10 px up over the panel's border
    assert drawn_share(grey, strip) < 0.01


def test_the_shipped_join_is_one_of_the_settings_validation_scores():
    """Whatever ``slivers.SHIPPED`` is, the validation pages score it (it was chosen there), under
    its own name, and every join level gets a name of its own."""
    from bench.page_validation import JOINS, join_name
    from raypipe.comic.slivers import SHIPPED

    def full(levels: tuple) -> tuple:  # every level of join_slivers, defaults filled in
        return tuple(levels) + (0.0, 1, 0.0, 0.0, False, 0.0)[len(levels) :]

    assert full(SHIPPED) in [full(join) for join in JOINS]
    assert join_name(*SHIPPED) == "sliver 0.5 blocks 4 framed 1.0 over gutter span 0.05"
    assert len({join_name(*join) for join in JOINS}) == len(JOINS)
