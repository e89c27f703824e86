"""Japanese lettering in real fonts pasted onto generated pages (the verifier's negatives)."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import matplotlib
import numpy as np
import pytest

from raypipe.testing.drawn_lettering import (
    BALLOON_ROOM,
    lettered_balloon,
    load_fonts,
    set_vertical,
    with_lettering,
)

REPO = Path(__file__).resolve().parents[1]
DEJAVU = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
#: IPAexGothic, from the dev extra's japanize-matplotlib (its module is never imported).
JAPANIZE = importlib.util.find_spec("japanize_matplotlib")


def japanese_font():
    if JAPANIZE is None:
        pytest.skip("needs the Japanese font of japanize-matplotlib (pip install -e '.[dev]')")
    return load_fonts([Path(JAPANIZE.submodule_search_locations[0]) / "fonts" / "ipaexg.ttf"])[0]


def white(height=400, width=300):
    return np.full((height, width, 3), 255, np.uint8)


def test_columns_are_set_top_to_bottom_and_right_to_left_with_ink_in_each_glyph():
    canvas, font = white(), load_fonts([DEJAVU])[0]
    boxes = set_vertical(canvas, ["ABC", "DE"], font, 20, right=250, top=30)
    first, second = boxes[:3], boxes[3:]
    assert len(boxes) == 5
    assert [b[0] for b in first] == [first[0][0]] * 3  # one column
    assert first[0][1] < first[1][1] < first[2][1]
    assert second[0][2] <= first[0][0]  # the second column lies left of the first
    for x1, y1, x2, y2 in boxes:
        assert canvas[y1:y2, x1:x2].min() < 100
    assert canvas[:, : second[0][0]].min() == 255  # nothing left of the last column


def test_a_glyph_the_font_lacks_is_skipped_without_a_gap():
    font = load_fonts([DEJAVU])[0]
    assert not font.has("あ") and font.has("A")
    with_gap, without = white(), white()
    boxes = set_vertical(with_gap, ["AあB"], font, 20, right=250, top=30)
    assert boxes == set_vertical(without, ["AB"], font, 20, right=250, top=30)
    np.testing.assert_array_equal(with_gap, without)
    untouched = white()
    assert set_vertical(untouched, ["あい"], font, 20, right=250, top=30) == []
    assert untouched.min() == 255


def test_a_missing_font_file_is_a_one_line_error(tmp_path):
    with pytest.raises(FileNotFoundError) as error:
        load_fonts([DEJAVU, tmp_path / "none.ttf"])
    assert "\n" not in str(error.value) and "none.ttf" in str(error.value)


@pytest.mark.parametrize("shape", ["ellipse", "rectangle"])
def test_glyphs_land_inside_their_balloon(shape):
    font = japanese_font()
    for seed in range(8):
        canvas = white(900, 700)
        box, glyphs = lettered_balloon(canvas, [], np.random.default_rng(seed), font, 24, shape)
        assert glyphs
        cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        ax, ay = (box[2] - box[0]) / 2, (box[3] - box[1]) / 2
        if shape == "ellipse":
            ax, ay = ax / BALLOON_ROOM, ay / BALLOON_ROOM
        for x1, y1, x2, y2 in glyphs:
            for x, y in [(x1, y1), (x2, y1), (x1, y2), (x2, y2)]:
                assert (
                    ((x - cx) / ax) ** 2 + ((y - cy) / ay) ** 2 <= 1
                    if shape == "ellipse"
                    else (box[0] <= x <= box[2] and box[1] <= y <= box[3])
                )
            assert canvas[y1:y2, x1:x2].min() < 100  # inked


def test_lettering_covers_no_face_and_the_same_rng_gives_the_same_page():
    fonts = [japanese_font(), load_fonts([DEJAVU])[0]]
    page = np.random.default_rng(0).integers(0, 256, (1400, 1000, 3), dtype=np.uint8)
    faces = [(100, 100, 300, 300), (600, 800, 760, 960), (400, 1100, 470, 1170)]
    before = page.copy()
    one = with_lettering(page, faces, np.random.default_rng(3), fonts)
    np.testing.assert_array_equal(page, before)  # a copy is lettered
    for x1, y1, x2, y2 in faces:
        np.testing.assert_array_equal(one[y1:y2, x1:x2], page[y1:y2, x1:x2])
    assert (one != page).any(axis=2).mean() > 0.01
    np.testing.assert_array_equal(one, with_lettering(page, faces, np.random.default_rng(3), fonts))
    assert (one != with_lettering(page, faces, np.random.default_rng(4), fonts)).any()


@pytest.mark.parametrize(
    "script, args",
    [
        ("train_drawn_verifier.py", ["--seconds", "0", "--seed", "7"]),
        ("drawn_faces_detect.py", ["--sets", "lettered"]),
    ],
)
def test_the_bench_and_training_give_a_one_line_error_for_a_missing_font_file(
    tmp_path, script, args
):
    missing = tmp_path / "no_such_font.ttf"
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / script), *args, "--fonts", str(DEJAVU), str(missing)],
        check=False, capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == f"--fonts: no font file at {missing}"
    assert "Traceback" not in done.stderr


def test_the_lettering_share_letters_no_page_at_0_every_page_at_1_and_some_at_half(monkeypatch):
    monkeypatch.syspath_prepend(str(REPO / "bench"))
    from train_drawn_verifier import gets_lettering

    pages = [(draw, page) for draw in range(20) for page in range(5)]
    for share, expected in [(0.0, 0), (1.0, len(pages))]:
        assert sum(gets_lettering(7, draw, page, share) for draw, page in pages) == expected
    half = [gets_lettering(7, draw, page, 0.5) for draw, page in pages]
    assert 30 < sum(half) < 70
    rerun, other_seed = ([gets_lettering(s, d, p, 0.5) for d, p in pages] for s in (7, 8))
    assert half == rerun and half != other_seed


def test_a_lettering_share_without_fonts_is_a_one_line_error():
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "train_drawn_verifier.py"), "--seconds", "0", "--lettering-share", "0.5"],
        check=False, capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "--lettering-share: a share from 0 to 1 of the pages lettered with --fonts"
    ]
