"""Slivers the page model cut off a panel are joined back; panels across a gutter are not."""

from __future__ import annotations

import cv2
import numpy as np

from raypipe.comic.page_model import EDGE, INPUT_SHAPE, INTERIOR, PAPER, learned_panels, panel_boxes
from raypipe.comic.slivers import join_slivers
from raypipe.testing.manga_layouts import compose_page


def framed_art_page(gutter_at: int | None) -> np.ndarray:
    """A white page with one framed panel of strokes on grey tone (x 40-660); with
    ``gutter_at``, a paper gutter 10 px wide splits it into two framed panels there (each
    with its own frame: the gutter breaks the top and bottom frame lines)."""
    rng = np.random.default_rng(1)
    grey = np.full((1000, 700), 250, np.uint8)
    grey[40:900, 40:660] = 170
    for _ in range(200):
        p = (int(rng.integers(40, 660)), int(rng.integers(40, 900)))
        q = (int(rng.integers(40, 660)), int(rng.integers(40, 900)))
        cv2.line(grey, p, q, int(rng.integers(0, 150)), 2)
    cv2.rectangle(grey, (40, 40), (659, 899), 0, 4)
    if gutter_at is not None:
        grey[36:904, gutter_at - 5 : gutter_at + 5] = 250
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


def test_a_panel_cut_in_two_similar_pieces_by_a_seam_in_its_art_is_joined_only_at_level_one():
    grey = framed_art_page(None)
    grey[40:900, 300:660] = np.where(grey[40:900, 300:660] < 100, 40, 90)  # another scene right of x 300
    cv2.rectangle(grey, (40, 40), (659, 899), 0, 4)
    left, right = (36, 36, 304, 904), (296, 36, 664, 904)
    assert join_slivers([left, right], grey, 1.0) == [(36, 36, 664, 904)]
    assert join_slivers([left, right], grey, 0.5) == [left, right]  # not thin enough for 0.5


def test_pieces_either_side_of_a_tall_balloon_are_joined_and_framed_panels_are_not():
    grey = framed_art_page(None)
    cv2.ellipse(grey, (330, 330), (60, 300), 0, 0, 360, 255, -1)  # from the top frame (broken)
    cv2.ellipse(grey, (330, 330), (60, 300), 0, 0, 360, 0, 2)  # down two thirds of the panel
    left, right = (36, 36, 332, 904), (328, 36, 664, 904)  # cut down the balloon
    assert join_slivers([left, right], grey, 1.0) == [(36, 36, 664, 904)]
    apart = framed_art_page(330)  # two framed panels across a paper gutter at x 330
    pieces = [(36, 36, 328, 904), (332, 36, 664, 904)]
    for blocks in (1, 4):
        assert join_slivers(pieces, apart, 1.0, blocks) == pieces


def test_true_panels_of_generated_grid_pages_are_seldom_joined():
    """On 20 generated grid pages (balloons across gutters, seams and tall balloons in the art)
    the join at its widest level merges at most 2% of the true panels (gutters are found)."""
    art = [np.tile(np.linspace(0, 255, 64).astype(np.uint8), (64, 1))]
    panels = joined = 0
    for seed in range(20):
        page = compose_page(art, np.random.default_rng(seed), "grid", fragment_art=1.0)
        panels += len(page.panels)
        joined += len(page.panels) - len(join_slivers(page.panels, page.grey, 1.0))
    assert panels > 150 and joined <= 0.02 * panels


def model_map_cut_at(x: int) -> np.ndarray:
    """A page model's class map of a 1000 x 700 page: one framed panel cut in two at ``x``."""
    classes = np.zeros((3, *INPUT_SHAPE), np.float32)
    classes[PAPER] = 1.0
    h, w = INPUT_SHAPE
    inside = (slice(round(40 / 1000 * h), round(900 / 1000 * h)), slice(round(40 / 700 * w), round(660 / 700 * w)))
    classes[PAPER][inside], classes[INTERIOR][inside] = 0.0, 1.0
    cut = round(x / 700 * w)
    classes[INTERIOR][:, cut - 1 : cut + 1], classes[EDGE][:, cut - 1 : cut + 1] = 0.0, 2.0
    return classes


def test_learned_panels_join_the_models_two_pieces_of_one_panel_but_not_two_panels():
    """The default's panels: a model map that cuts one framed panel in two at x 330 gives one
    panel when the picture shows art across the cut, two when it shows a paper gutter there."""
    classes = model_map_cut_at(220)
    assert len(panel_boxes(classes, (1000, 700))) == 2  # the model's map: two pieces
    one = cv2.cvtColor(framed_art_page(None), cv2.COLOR_GRAY2RGB)
    assert len(learned_panels(one, classes)) == 1
    two = cv2.cvtColor(framed_art_page(220), cv2.COLOR_GRAY2RGB)
    assert len(learned_panels(two, classes)) == 2


def test_a_pale_column_of_art_is_a_gutter_unless_the_seam_must_run_on_past_the_frame():
    grey = framed_art_page(None)
    grey[44:896, 196:206] = 250  # a pale wall's edge down the whole panel, inside its frame
    strip, rest = (36, 36, 204, 904), (198, 36, 664, 904)
    assert join_slivers([strip, rest], grey, 0.5, 4) == [strip, rest]  # taken for a gutter
    assert join_slivers([strip, rest], grey, 0.5, 4, reach=0.02) == [(36, 36, 664, 904)]
    apart = framed_art_page(200)  # a true gutter runs on into the page margin
    pieces = [(36, 36, 198, 904), (202, 36, 664, 904)]
    assert join_slivers(pieces, apart, 0.5, 4, reach=0.02) == pieces


def test_a_wide_piece_is_joined_when_one_frame_runs_across_the_seam_and_two_frames_are_not():
    """Framed join: a panel cut in two similar pieces (0.73 as wide) by a seam in its art is
    joined when its top and bottom frame lines run across the seam; two framed panels, whose
    frames a gutter breaks, are not, even over a gutter; borderless pieces are not."""
    grey = framed_art_page(None)
    grey[40:900, 300:660] = np.where(grey[40:900, 300:660] < 100, 40, 90)  # another scene right of x 300
    cv2.rectangle(grey, (40, 40), (659, 899), 0, 4)
    left, right = (36, 36, 304, 904), (296, 36, 664, 904)
    assert join_slivers([left, right], grey, 0.5, 4) == [left, right]  # too wide for the 0.5 join
    assert join_slivers([left, right], grey, 0.5, 4, framed=1.0) == [(36, 36, 664, 904)]
    assert join_slivers([left, right], grey, 0.5, 4, framed=0.7) == [left, right]  # 0.73 > 0.7
    apart = framed_art_page(300)
    pieces = [(36, 36, 298, 904), (302, 36, 664, 904)]
    assert join_slivers(pieces, apart, 0.5, 4, framed=1.0, over_gutter=True) == pieces
    borderless = grey.copy()
    borderless[:44], borderless[896:] = 250, 250  # no top or bottom frame line
    assert join_slivers([left, right], borderless, 0.5, 4, framed=1.0, over_gutter=True) == [left, right]


def test_a_pale_column_inside_one_frame_is_joined_over_only_with_over_gutter():
    grey = framed_art_page(None)
    grey[44:896, 196:206] = 250  # a pale wall's edge down the whole panel, inside its frame
    strip, rest = (36, 36, 204, 904), (198, 36, 664, 904)
    assert join_slivers([strip, rest], grey, 0.5, 4, framed=1.0) == [strip, rest]
    assert join_slivers([strip, rest], grey, 0.5, 4, framed=1.0, over_gutter=True) == [(36, 36, 664, 904)]


def test_the_frame_must_be_the_pieces_own_not_a_neighbours_across_the_gutter_row_nor_a_page_edge():
    """Two framed panels under a wide one: the upper panel's frame runs over both their tops
    beyond the gutter row, but it is not theirs, so they are not joined; nor are two pieces of a
    full-bleed page whose dark art runs off the page's top and foot (no paper outside)."""
    grey = framed_art_page(350)
    grey[400:420] = 250  # a gutter row: a wide panel above (x 40-660), framed, and two below
    cv2.rectangle(grey, (40, 40), (659, 399), 0, 4)
    cv2.line(grey, (40, 421), (344, 421), 0, 4)
    cv2.line(grey, (356, 421), (659, 421), 0, 4)
    pieces = [(36, 416, 349, 904), (351, 416, 664, 904)]
    assert join_slivers(pieces, grey, 0.5, 4, framed=1.0, over_gutter=True) == pieces
    bleed = framed_art_page(None)[40:900, 40:660].copy()  # art to every edge of the page
    bleed[:6], bleed[-6:] = 20, 20  # dark art along the page's top and foot
    halves = [(0, 0, 300, 860), (296, 0, 620, 860)]
    assert join_slivers(halves, bleed, 0.5, 4, framed=1.0, over_gutter=True) == halves


def test_learned_panels_join_two_similar_pieces_inside_one_frame_but_not_two_framed_panels():
    """The default's join (``SHIPPED``: inside one frame up to 1.0, the frame straight 5% of the
    page past the seam): a model map that cuts one framed panel at x 290 (pieces 0.69 as wide
    as each other, too wide for the 0.5 join) gives one panel when the top and bottom frames
    run across the cut, two when a gutter there breaks them."""
    classes = model_map_cut_at(290)
    pieces = panel_boxes(classes, (1000, 700))
    widths = sorted(b[2] - b[0] for b in pieces)
    assert len(pieces) == 2 and 0.5 < widths[0] / widths[1] <= 0.7
    one = cv2.cvtColor(framed_art_page(None), cv2.COLOR_GRAY2RGB)
    assert len(learned_panels(one, classes)) == 1
    two = cv2.cvtColor(framed_art_page(290), cv2.COLOR_GRAY2RGB)
    assert len(learned_panels(two, classes)) == 2


def test_learned_panels_join_two_halves_of_one_frame_over_a_pale_column():
    """The default's join: a model map cutting one framed panel in two near-equal halves where
    a pale column of art (a wall's edge) runs down it gives one panel; two framed panels with a
    gutter there stay two."""
    classes = np.zeros((3, *INPUT_SHAPE), np.float32)
    classes[PAPER] = 1.0
    h, w = INPUT_SHAPE
    inside = (slice(round(40 / 1000 * h), round(900 / 1000 * h)), slice(round(40 / 700 * w), round(660 / 700 * w)))
    classes[PAPER][inside], classes[INTERIOR][inside] = 0.0, 1.0
    cut = round(340 / 700 * w)
    classes[INTERIOR][:, cut - 1 : cut + 1], classes[EDGE][:, cut - 1 : cut + 1] = 0.0, 2.0
    assert len(panel_boxes(classes, (1000, 700))) == 2
    pale = framed_art_page(None)
    pale[44:896, 334:346] = 250  # pale down the whole panel, inside its frame
    assert len(learned_panels(cv2.cvtColor(pale, cv2.COLOR_GRAY2RGB), classes)) == 1
    apart = cv2.cvtColor(framed_art_page(340), cv2.COLOR_GRAY2RGB)
    assert len(learned_panels(apart, classes)) == 2


def test_a_balloons_curved_outline_across_a_gutter_is_no_frame_when_the_frame_must_run_straight():
    """Two borderless panels (a paper gutter at x 350) with a white balloon across the gutter at
    each end: each outline, white inside, looks like a frame right at the seam; it curves away
    within 5% of the page's width, so with ``frame_span`` the panels are not joined."""
    grey = framed_art_page(350)
    grey[:46], grey[894:], grey[:, :46], grey[:, 654:] = 250, 250, 250, 250  # no frame lines
    for centre in ((350, 0), (350, 938)):
        cv2.ellipse(grey, centre, (80, 50), 0, 0, 360, 255, -1)
        cv2.ellipse(grey, centre, (80, 50), 0, 0, 360, 0, 3)
    pieces = [(42, 42, 348, 898), (352, 42, 658, 898)]
    assert join_slivers(pieces, grey, 0.5, 4, framed=1.0, over_gutter=True) != pieces  # taken for a frame
    assert join_slivers(pieces, grey, 0.5, 4, framed=1.0, over_gutter=True, frame_span=0.05) == pieces
