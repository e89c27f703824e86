"""The drawn-face detector raypipe trains and ships (``drawn-faces``, the comic default)."""

import cv2
import numpy as np
import pytest

from raypipe.comic.split import detect_in_panels, split_page
from raypipe.detect import DETECTORS
from raypipe.detect.boxes import box_iou
from raypipe.detect.drawn import SHIPPED_MODEL
from raypipe.detect.select import resolve_detector
from raypipe.evaluation.comic import centre_claims, centre_scores
from raypipe.registry import ComponentError
from raypipe.testing.comic_pages import compose_pages, load_characters, split_characters
from raypipe.testing.drawn_styles import simple_face
from tests.conftest import need_shared


@pytest.fixture(scope="module")
def detector():
    return DETECTORS.build("drawn-faces")


def test_drawn_detector_ships_inside_the_package_as_onnx():
    import onnx

    model = onnx.load(str(SHIPPED_MODEL))  # a protobuf graph, no pickle
    assert [o.name for o in model.graph.output] == ["boxes", "scores"]
    assert SHIPPED_MODEL.stat().st_size < 5_000_000


def test_comic_default_detector_is_the_shipped_one_on_an_empty_model_root(tmp_path):
    spec = resolve_detector({"name": "auto"}, "comic", str(tmp_path))
    assert spec == {"name": "drawn-faces", "model_root": str(tmp_path)}  # where its verifier's backbone is looked up
    assert DETECTORS.build(spec).model_path == str(SHIPPED_MODEL)


def test_drawn_detector_with_a_missing_model_is_a_clear_error(tmp_path):
    with pytest.raises(ComponentError, match="not found"):
        DETECTORS.build({"name": "drawn-faces", "model_path": str(tmp_path / "none.onnx")})


def test_drawn_detector_finds_no_face_on_pages_without_faces(detector):
    rng = np.random.default_rng(0)
    blank = np.full((1400, 1000, 3), 255, np.uint8)
    noise = rng.integers(0, 256, (600, 900, 3), dtype=np.uint8)
    tiny = np.full((20, 700, 3), 128, np.uint8)  # a sliver narrower than the network's stride
    assert [len(detector.detect(image)) for image in (blank, noise, tiny)] == [0, 0, 0]


def test_drawn_detector_finds_few_stroke_faces_of_the_kind_it_trained_on(detector):
    """A check that needs no ../shared data (so it runs in CI): faces drawn by the training
    generator's few-stroke style, new draws, on white pages (23 of 24 found when written)."""
    rng = np.random.default_rng(0)
    pages, truth = [], []
    for _ in range(4):
        page, boxes = np.full((1400, 1000, 3), 255, np.uint8), []
        for row in range(3):
            for col in range(2):
                side, x, y = int(rng.integers(90, 220)), 80 + col * 450, 60 + row * 450
                page[y : y + side, x : x + side] = simple_face(side, rng)
                boxes.append((x, y, x + side, y + side))
        pages.append(page)
        truth.append(boxes)
    scores = centre_scores([[f.box for f in detector.detect(page)] for page in pages], truth)
    assert scores["recall"] >= 0.8 and scores["precision"] >= 0.9, scores


def test_a_coarse_pass_boxes_a_face_too_large_for_the_fine_passes():
    """A face of 800 px on a 1,100-px image: the 640 and 320 passes see it at 440 and 220 px,
    larger than any face trained on, and box at most a part of it (stage 6 put no box on it,
    stage 7 one of 480 px: IoU 0.48); a third pass at 160 sees it at 110 and boxes it whole."""
    page = np.full((1100, 1000, 3), 255, np.uint8)
    page[100:900, 100:900] = cv2.resize(simple_face(160, np.random.default_rng(0)), (800, 800))
    face = np.float32([148, 148, 852, 852])  # the pasted square less 6% of each side

    def overlaps(long_sides):
        found = DETECTORS.build({"name": "drawn-faces", "long_sides": long_sides, "verifier": "none"}).detect(page)
        return box_iou(face, np.float32([f.box for f in found]).reshape(-1, 4))[0]

    assert (overlaps([640, 320]) < 0.6).all()
    coarse = overlaps([640, 320, 160])
    assert (coarse >= 0.7).sum() == 1


@pytest.mark.shared
def test_drawn_detector_finds_pasted_faces_of_unseen_characters_with_boxes_on_them(detector):
    """Composed pages of the fan-art characters the detector was not trained on, as a comic run
    detects (panel crops, lettering painted over, faces mostly in text dropped): recall and
    precision under the centre rule (0.969 / 1.000 measured), and the found faces' boxes
    overlap their pasted crops."""
    held_out = split_characters(load_characters(need_shared("data", "anime_fanart")))[1]
    pages = compose_pages(held_out, 6, seed=11)
    found = [
        [face.box for _, face in detect_in_panels(split_page(page.image), detector)]
        for page in pages
    ]
    scores = centre_scores(found, [page.faces for page in pages])
    assert scores["recall"] >= 0.9 and scores["precision"] >= 0.9, scores
    overlaps = [
        box_iou(np.array([box]), np.array([page.faces[claim]]))[0, 0]
        for page, boxes in zip(pages, found)
        for box, claim in zip(boxes, centre_claims(boxes, page.faces))
        if claim is not None
    ]
    assert np.median(overlaps) >= 0.5, overlaps


class _SeesDarkBlobs:
    """A stand-in for the network: a box (score 0.9) on each dark blob of its input, only in the
    input's left half unless ``everywhere``, so a test knows what each orientation finds."""

    def __init__(self, everywhere: bool):
        self.everywhere = everywhere

    def run(self, names, feeds):
        grey = feeds["image"][0].mean(0)
        _, _, stats, _ = cv2.connectedComponentsWithStats((grey < 0.5).astype(np.uint8))
        boxes = [
            (x, y, x + w, y + h)
            for x, y, w, h, _ in stats[1:]
            if self.everywhere or x + w / 2 < grey.shape[1] / 2
        ]
        return np.float32(boxes).reshape(-1, 4), np.full(len(boxes), 0.9, np.float32)


def _page_with_a_face_on_the_right() -> tuple[np.ndarray, tuple[int, int, int, int]]:
    page = np.full((300, 400, 3), 255, np.uint8)
    face = (280, 100, 340, 160)  # the truth: where the dark "face" is pasted
    page[face[1] : face[3], face[0] : face[2]] = 20
    return page, face


def _flip_detector(flip: str, everywhere: bool, threshold: float = 0.55):
    drawn = DETECTORS.build(
        {"name": "drawn-faces", "flip": flip, "long_sides": [320], "score_threshold": threshold, "verifier": "none"}
    )
    drawn._session = _SeesDarkBlobs(everywhere)
    return drawn


def test_flip_union_keeps_a_face_only_the_mirrored_pass_finds_at_its_place():
    page, face = _page_with_a_face_on_the_right()
    assert _flip_detector("none", everywhere=False).detect(page) == []
    found = _flip_detector("union", everywhere=False).detect(page)
    assert len(found) == 1 and found[0].score == pytest.approx(0.9)
    assert box_iou(np.array([found[0].box]), np.array([face]))[0, 0] > 0.8


def test_flip_mean_halves_the_score_of_a_face_one_orientation_misses():
    page, face = _page_with_a_face_on_the_right()
    assert _flip_detector("mean", everywhere=False).detect(page) == []  # 0.45 < 0.55
    found = _flip_detector("mean", everywhere=False, threshold=0.4).detect(page)
    assert len(found) == 1 and found[0].score == pytest.approx(0.45)
    assert box_iou(np.array([found[0].box]), np.array([face]))[0, 0] > 0.8


@pytest.mark.parametrize("flip", ["union", "mean"])
def test_flip_merges_the_two_orientations_boxes_of_one_face_into_one(flip):
    page, face = _page_with_a_face_on_the_right()
    found = _flip_detector(flip, everywhere=True).detect(page)
    assert len(found) == 1 and found[0].score == pytest.approx(0.9)
    assert box_iou(np.array([found[0].box]), np.array([face]))[0, 0] > 0.8


def test_drawn_detector_with_an_unknown_flip_mode_is_a_clear_error():
    with pytest.raises(ComponentError, match="flip must be one of"):
        DETECTORS.build({"name": "drawn-faces", "flip": "sideways"})


def _crop_with_a_face_low_down(side: int = 150) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """A 320 x 400 crop (as `anime/` frames its faces: small and low) with one few-stroke face."""
    crop = np.full((400, 320, 3), 255, np.uint8)
    x, y = 85, 220
    crop[y : y + side, x : x + side] = simple_face(side, np.random.default_rng(3))
    return crop, (x, y, x + side, y + side)


def test_whole_image_reframed_on_drawn_faces_gives_the_face_found_in_the_crop(tmp_path):
    crop, truth = _crop_with_a_face_low_down()
    reframed = DETECTORS.build({"name": "whole-image", "reframe": "drawn-faces", "model_root": str(tmp_path)})
    (face,) = reframed.detect(crop)
    assert box_iou(np.array([face.box]), np.array([truth], np.float32))[0, 0] > 0.5
    (whole,) = DETECTORS.build({"name": "whole-image"}).detect(crop)
    assert whole.box == (0, 0, 320, 400)


def test_whole_image_reframed_keeps_the_whole_crop_when_no_face_is_found(tmp_path):
    reframed = DETECTORS.build({"name": "whole-image", "reframe": "drawn-faces", "model_root": str(tmp_path)})
    (face,) = reframed.detect(np.full((200, 160, 3), 255, np.uint8))
    assert face.box == (0, 0, 160, 200)


def test_whole_image_with_an_unknown_reframe_mode_is_a_clear_error():
    with pytest.raises(ComponentError, match="reframe must be one of"):
        DETECTORS.build({"name": "whole-image", "reframe": "faces"})


def test_whole_image_on_comic_crops_reframes_on_the_drawn_face_unless_told_not_to(tmp_path):
    root = str(tmp_path)
    assert resolve_detector({"name": "whole-image"}, "comic", root) == {"name": "whole-image", "reframe": "drawn-faces", "model_root": root}
    assert resolve_detector({"name": "whole-image", "reframe": "none"}, "comic", root)["reframe"] == "none"
    assert "reframe" not in resolve_detector({"name": "whole-image"}, "photo", root)
