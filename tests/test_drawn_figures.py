"""Bodies and whole figures pasted onto finished pages: the verifier's coloured negatives."""

import numpy as np

from raypipe.testing import drawn_figures
from raypipe.testing.drawn_figures import figure, figure_piece, painted, with_figures


def _page(colour: bool) -> tuple[np.ndarray, list]:
    page = np.full((600, 500, 3), 250, np.uint8)
    faces = [(60, 60, 160, 160), (300, 80, 380, 160)]
    for x1, y1, x2, y2 in faces:
        page[y1:y2, x1:x2] = (230, 120, 140) if colour else 120
    return page, faces


def test_figures_cover_no_face_and_change_most_pages_outside_the_faces():
    changed = 0
    for seed in range(8):
        page, faces = _page(colour=True)
        out = with_figures(page, faces, np.random.default_rng(seed))
        assert out.shape == page.shape and out is not page
        for x1, y1, x2, y2 in faces:
            assert (out[y1:y2, x1:x2] == page[y1:y2, x1:x2]).all()
        changed += int((out != page).any(2).mean() > 0.005)
    assert changed >= 5  # a figure that would cover a face is left out


def test_figures_are_in_colour_on_a_colour_page_and_grey_on_a_grey_page():
    coloured = greys = 0
    for seed in range(10):
        page, faces = _page(colour=True)
        out = with_figures(page, faces, np.random.default_rng(seed)).astype(np.int16)
        changed = (out != page).any(2)
        coloured += int(changed.any() and (np.ptp(out, axis=2)[changed] > 30).mean() > 0.2)
        page, faces = _page(colour=False)
        out = with_figures(page, faces, np.random.default_rng(seed))
        greys += int((out[..., 0] == out[..., 1]).all() and (out[..., 1] == out[..., 2]).all())
    assert coloured >= 4 and greys == 10


def test_with_every_face_given_a_body_the_ink_sits_right_under_the_faces(monkeypatch):
    monkeypatch.setattr(drawn_figures, "BODIES_UNDER_FACES", 1.0)
    under = 0
    for seed in range(6):
        page, faces = _page(colour=True)
        out = with_figures(page, faces, np.random.default_rng(seed))
        changed = (out != page).any(2)
        under += sum(changed[y2 + 1 : y2 + 40, x1:x2].mean() > 0.1 for x1, _, x2, y2 in faces)
    assert under >= 6  # most of the 12 faces


def test_a_whole_figure_spans_the_close_up_with_a_torso_and_two_arms():
    """Ink from near the top to the bottom and across most of the width, with no head: the
    top corners stay white paper."""
    for seed in range(6):
        canvas = np.full((200, 200), 255.0, np.float32)
        figure(canvas, np.random.default_rng(seed))
        ink = canvas < 128
        rows, cols = np.flatnonzero(ink.any(1)), np.flatnonzero(ink.any(0))
        assert rows[0] < 60 and rows[-1] > 160 and cols[-1] - cols[0] > 0.45 * 200
        assert (canvas[:15, :40] > 240).all() and (canvas[:15, -40:] > 240).all()


def test_painting_fills_the_white_regions_with_shaded_colours_and_keeps_the_lines_dark():
    canvas = np.full((160, 160), 255.0, np.float32)
    figure(canvas, np.random.default_rng(1))
    art = canvas.astype(np.uint8)
    colour, grey = painted(art, np.random.default_rng(2), True), painted(art, np.random.default_rng(2), False)
    assert colour.shape == (160, 160, 3) and grey.shape == (160, 160, 1)
    assert (np.ptp(colour.astype(np.int16), axis=2) > 20).mean() > 0.3
    assert (colour[art < 30] < 120).mean() > 0.8  # the lines stay dark (softened)
    assert (grey > 250).mean() < 0.5 * (art > 250).mean()  # the paper is painted


def test_a_figure_piece_masks_out_the_paper_at_its_top_corners():
    for seed in range(6):
        rgb, mask = figure_piece(120, np.random.default_rng(seed), colour=True)
        assert rgb.shape == (120, 120, 3) and mask.shape == (120, 120)
        assert not mask[0, 0] and not mask[0, -1] and 0.1 < mask.mean() < 0.95
