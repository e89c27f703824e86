"""The synthetic pages the drawn-face detector trains on, and the manga truth it is measured on."""

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from raypipe.testing import drawn_training_pages
from raypipe.testing.drawn_negatives import (
    back_of_head,
    close_up_negative,
    hand,
    sound_effect,
    sparkle,
)
from raypipe.testing.drawn_styles import flat_greys, inked, simple_face, to_grey
from raypipe.testing.drawn_training_pages import SMALL_FACE, _cut_by_border, training_patch
from tests.conftest import need_shared

MANGA_FACES = Path(__file__).resolve().parents[1] / "bench" / "data" / "manga_faces.json"


def test_inked_drawing_is_black_outlines_on_white_paper_with_no_grey():
    grey = np.full((120, 120), 235, np.uint8)
    cv2.circle(grey, (60, 60), 30, 120, -1)  # a mid-grey disc on light paper
    for seed in range(6):
        ink = inked(grey, np.random.default_rng(seed))
        assert set(np.unique(ink)) <= {0.0, 255.0}  # ink or paper (screentone is dots of both)
        assert (ink[:15] == 255).all()  # the paper far from the disc stays white
        assert (ink[60, 26:34] == 0).any()  # the disc's left edge is inked


def test_flat_greys_are_black_outlines_over_at_most_three_flat_fills():
    grey = np.full((120, 120), 240, np.uint8)
    cv2.circle(grey, (60, 60), 30, 120, -1)
    cv2.circle(grey, (60, 60), 12, 10, -1)
    for seed in range(6):
        flat = flat_greys(grey, np.random.default_rng(seed))
        assert len(np.unique(flat)) <= 4  # black lines and at most three fills
        assert (flat[:15] == 255).all()  # the paper stays white
        assert (flat[60, 26:36] == 0).any()  # the disc's left edge is inked


@pytest.mark.parametrize("draw", [sound_effect, sparkle, hand])
def test_hard_negatives_draw_black_and_white_marks_inside_the_canvas(draw):
    for seed in range(10):
        canvas = np.full((192, 192), 128, np.float32)
        draw(canvas, np.random.default_rng(seed))
        changed = canvas != 128
        assert changed.sum() >= 20  # something was drawn
        assert canvas.min() >= 0 and canvas.max() <= 255
        assert (canvas[changed] < 100).any()  # with black ink


def test_a_face_cut_by_a_panel_border_is_boxed_by_its_visible_part():
    for seed in range(20):
        rng = np.random.default_rng(seed)
        canvas = np.full((192, 192), 100, np.float32)
        box = (50.0, 60.0, 130.0, 150.0)
        x1, y1, x2, y2 = _cut_by_border(canvas, box, rng)
        assert box[0] <= x1 < x2 <= box[2] and box[1] <= y1 < y2 <= box[3]
        share = (x2 - x1) * (y2 - y1) / ((box[2] - box[0]) * (box[3] - box[1]))
        assert 0.55 <= share <= 0.9 + 1e-6
        hidden = canvas[int(box[1]) : int(box[3]), int(box[0]) : int(box[2])].copy()
        hidden[
            int(y1) - int(box[1]) : int(y2) - int(box[1]),
            int(x1) - int(box[0]) : int(x2) - int(box[0]),
        ] = 255
        assert (hidden != 100).all()  # the rest of the face is gutter (white) or the frame line


def test_training_patches_hold_many_small_faces_and_boxes_inside_the_patch():
    rng = np.random.default_rng(0)
    faces = [simple_face(160, rng) for _ in range(8)]
    widths = []
    for _ in range(40):
        image, boxes = training_patch(192, rng, faces, 163)
        assert image.shape == (192, 192) and image.dtype == np.uint8
        assert ((boxes >= 0) & (boxes <= 192)).all()
        widths += list(boxes[:, 2] - boxes[:, 0])
    assert len(widths) >= 40
    assert np.mean(np.asarray(widths) < SMALL_FACE) >= 0.5  # manga draws most faces small


def test_simple_faces_share_decides_whether_crops_or_few_stroke_faces_are_pasted():
    black = [np.zeros((160, 160, 3), np.uint8)]  # crops that print black in every style but flat

    def mean_in_boxes(share: float) -> float:
        rng, values = np.random.default_rng(3), []
        for _ in range(30):
            image, boxes = training_patch(192, rng, black, 163, simple_faces=share)
            values += [
                image[int(y1) : int(y2), int(x1) : int(x2)].mean() for x1, y1, x2, y2 in boxes
            ]
        return float(np.mean(values))

    assert mean_in_boxes(1.0) > mean_in_boxes(0.0) + 40  # few-stroke faces are mostly paper


def test_manga_face_truth_lists_boxes_as_x1_y1_x2_y2_on_all_78_pages():
    boxed = json.loads(MANGA_FACES.read_text())["pages"]
    titles = sorted({page.rsplit("_", 1)[0] for page in boxed})
    assert titles == ["balloon_dream", "tencho_isoro"] and len(boxed) == 78
    boxes = np.asarray([box for page in boxed.values() for box in page])
    assert len(boxes) >= 300 and (boxes[:, :2] < boxes[:, 2:]).all() and (boxes >= 0).all()


@pytest.mark.shared
def test_manga_face_truth_covers_every_page_with_each_box_inside_its_page():
    pages = need_shared("data", "manga_pages", "pages")
    boxed = json.loads(MANGA_FACES.read_text())["pages"]
    assert set(boxed) == {path.stem for path in pages.glob("*.jpg")}
    for name, boxes in boxed.items():
        height, width = to_grey(cv2.imread(str(pages / f"{name}.jpg"))).shape
        for x1, y1, x2, y2 in boxes:
            assert 0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height, (name, (x1, y1, x2, y2))


def test_fine_tuning_starts_from_the_shipped_graph_exactly():
    """``train_drawn_detector --init drawn_faces.onnx``: the folded graph comes back as a network
    that gives the shipped graph's boxes and scores."""
    import onnxruntime as ort
    import torch

    from bench.train_drawn_detector import DrawnFaceNet, Exported, freeze_norms, weights_from_onnx
    from raypipe.detect.drawn import SHIPPED_MODEL

    net = DrawnFaceNet()
    net.load_state_dict(weights_from_onnx(SHIPPED_MODEL))
    freeze_norms(net)
    page = np.full((256, 384, 3), 255, np.uint8)
    page[40:200, 20:180] = simple_face(160, np.random.default_rng(0))
    page[100:180, 250:330] = simple_face(80, np.random.default_rng(1))
    image = np.ascontiguousarray(page.transpose(2, 0, 1)[None] / 255, np.float32)
    with torch.no_grad():
        boxes, scores = Exported(net.eval())(torch.from_numpy(image))
    shipped = ort.InferenceSession(str(SHIPPED_MODEL)).run(None, {"image": image})
    assert shipped[1][0] > 0.5  # a face found, so the comparison is not of noise
    np.testing.assert_allclose(scores.numpy()[:10], shipped[1][:10], atol=1e-4)
    ours, theirs = boxes.numpy()[:10], shipped[0][:10]  # boxes of equal score in either order
    ours, theirs = (b[np.lexsort((b[:, 1], b[:, 0]))] for b in (ours, theirs))
    np.testing.assert_allclose(ours, theirs, atol=0.05)


def test_page_patches_keep_the_faces_whose_centre_is_inside_at_the_scale_seen():
    """Patches cut from pages for training (manga-printed pages of the fit characters): each
    face whose centre falls in the patch, scaled and shifted to it; no other."""
    from bench.train_drawn_detector import page_patches

    grey = np.full((400, 600), 255, np.uint8)
    faces = np.float32([[100, 100, 200, 200], [380, 60, 580, 260]])
    for x1, y1, x2, y2 in faces.astype(int):
        grey[y1:y2, x1:x2] = 0
    images, boxes = page_patches([(grey, faces, 0.5)], 30, 64, np.random.default_rng(0))
    assert images.shape == (30, 64, 64) and sum(map(len, boxes)) > 0
    for image, found in zip(images, boxes):
        for x1, y1, x2, y2 in found:
            assert 0 <= (x1 + x2) / 2 < 64 and 0 <= (y1 + y2) / 2 < 64
            assert x2 - x1 in (50, 100)  # 100 and 200 px faces seen at half their size
            centre = image[int((y1 + y2) / 2), int((x1 + x2) / 2)]
            assert centre == 0  # the face is there in the patch


def test_close_up_negatives_are_line_art_of_the_side_asked():
    crops = [np.full((100, 100, 3), 90, np.uint8)]
    for seed in range(9):
        piece = close_up_negative(150, np.random.default_rng(seed), crops)
        assert piece.dtype == np.uint8 and piece.shape[1] == 150
        assert (piece < 100).mean() > 0.005 and (piece > 240).mean() > 0.1  # ink on white


def test_back_of_head_takes_the_hair_above_the_eyes_only():
    """A crop grey in its top third and black below: the head drawn from it is grey hair in a
    thin outline, with none of the black lower part (the eyes and mouth of a real crop)."""
    crop = np.zeros((120, 100, 3), np.uint8)
    crop[:40] = 128
    for seed in range(6):
        head = back_of_head(crop, 160, np.random.default_rng(seed))
        assert (head < 20).mean() < 0.08  # outline and neck lines only
        assert (np.abs(head.astype(int) - 128) < 10).mean() > 0.35  # the hair fills the head


def test_training_patches_get_close_up_negatives_without_truth_boxes(monkeypatch):
    """Every patch gets a negative of 30-85% of its side; the same draws with the negative blanked
    to white give other pixels but the same truth boxes: a negative adds none."""
    monkeypatch.setattr(drawn_training_pages, "CLOSE_UP_NEGATIVES", 1.0)
    crops = [np.full((100, 100, 3), 90, np.uint8)]
    runs = {}
    for blank in (False, True):
        sides = []

        def spy(side, rng, faces, sides=sides, blank=blank):
            sides.append(side)
            piece = close_up_negative(side, rng, faces)
            return np.full_like(piece, 255) if blank else piece

        monkeypatch.setattr(drawn_training_pages, "close_up_negative", spy)
        rng = np.random.default_rng(2)
        runs[blank] = [training_patch(192, rng, crops) for _ in range(8)]
        assert len(sides) == 8 and all(0.3 * 192 <= side <= 0.85 * 192 for side in sides)
    assert sum(len(boxes) for _, boxes in runs[False]) >= 4
    for (_, boxes), (_, same_boxes) in zip(runs[False], runs[True]):
        assert np.array_equal(boxes, same_boxes)
    assert (
        sum(np.abs(a[0].astype(int) - b[0]).mean() > 2 for a, b in zip(runs[False], runs[True]))
        >= 4
    )
