"""Slivers the page model cut off a panel are joined back; panels across a gutter are not."""

from __future__ import annotations

import cv2
import numpy as np

from bench.panel_slivers import join_slivers


def framed_art_page(gutter_at: int | None) -> np.ndarray:
    """A white page with one framed panel of strokes on grey tone (x 40-660); with
    ``gutter_at``, a paper gutter 10 px wide splits it into two framed panels there."""
    rng = np.random.default_rng(1)
    grey = np.full((1000, 700), 250, np.uint8)
    grey[40:900, 40:660] = 170
    for _ in range(200):
        p = (int(rng.integers(40, 660)), int(rng.integers(40, 900)))
        q = (int(rng.integers(40, 660)), int(rng.integers(40, 900)))
        cv2.line(grey, p, q, int(rng.integers(0, 150)), 2)
    cv2.rectangle(grey, (40, 40), (659, 899), 0, 4)
    if gutter_at is not None:
        grey[40:900, gutter_at - 5 : gutter_at + 5] = 250
        cv2.line(grey, (gutter_at - 6, 40), (gutter_at - 6, 899), 0, 3)
        cv2.line(grey, (gutter_at + 6, 40), (gutter_at + 6, 899), 0, 3)
    return grey


def test_a_strip_cut_off_by_a_line_in_the_art_is_joined_into_its_panel():
    grey = framed_art_page(None)
    cv2.line(grey, (160, 40), (160, 899), 0, 5)  # a door frame crossing the panel
    strip, rest = (36, 36, 164, 904), (156, 36, 664, 904)
    assert join_slivers([strip, rest], grey, 0.3) == [(36, 36, 664, 904)]
    # the same strip lying along a horizontal cut joins too (the rule works on both axes)
    turned = np.ascontiguousarray(grey.T)
    assert join_slivers([(36, 36, 904, 164), (36, 156, 904, 664)], turned, 0.3) == [(36, 36, 904, 664)]


def test_panels_across_a_paper_gutter_and_wide_pieces_are_kept_apart():
    grey = framed_art_page(160)
    strip, rest = (36, 36, 158, 904), (162, 36, 664, 904)
    assert join_slivers([strip, rest], grey, 0.3) == [strip, rest]  # a gutter between them
    plain = framed_art_page(None)
    wide, other = (36, 36, 300, 904), (296, 36, 664, 904)
    assert join_slivers([wide, other], plain, 0.3) == [wide, other]  # not thin: two panels
    short = (36, 36, 164, 400)  # runs along under half of the neighbour's side
    assert join_slivers([short, (156, 36, 664, 904)], plain, 0.3) == [short, (156, 36, 664, 904)]
