"""dlib detectors on real photos: recall on annotated group photos, no face on the dog photo."""

import numpy as np
import pytest

from raypipe.detect import DETECTORS
from raypipe.evaluation.detection import annotated_images, match_detections
from raypipe.io.decode import decode_image
from tests.conftest import SAMPLE_PHOTOS, need_shared


def _pixels(path):
    return decode_image(path.read_bytes(), 100_000_000, 2400).pixels


@pytest.fixture(scope="module")
def hog():
    return DETECTORS.build("dlib-hog")


@pytest.mark.shared
def test_hog_recall_on_annotated_group_photos(hog):
    groups = need_shared("data", "groups")
    xmls = sorted((groups / "annotations").glob("dlib_*.xml"))
    truth = annotated_images(groups, xmls, prefix="dlib_")
    assert len(truth) == 9
    tp = fn = fp = 0
    for path, boxes in truth.items():
        found = np.array([f.box for f in hog.detect(_pixels(path))]).reshape(-1, 4)
        t, p, n = match_detections(found, boxes)
        tp, fp, fn = tp + t, fp + p, fn + n
    assert tp / (tp + fn) >= 0.85, (tp, fp, fn)
    assert tp / (tp + fp) >= 0.8


@pytest.mark.shared
def test_no_face_on_the_dog_photo(hog):
    dogs = need_shared("data", "groups", "dlib_dogs_negative.jpg")
    assert hog.detect(_pixels(dogs)) == []


def test_a_tight_face_crop_still_yields_its_face(hog):
    image = _pixels(SAMPLE_PHOTOS / "obama" / "face_recognition_knn_train_obama.jpg")
    (face,) = hog.detect(image)
    x1, y1, x2, y2 = (int(v) for v in face.box)
    crop = image[y1:y2, x1:x2]
    faces = hog.detect(crop)
    assert len(faces) == 1
    fx1, _, fx2, _ = faces[0].box
    assert fx2 - fx1 > 0.6 * crop.shape[1]  # the face fills the crop


def test_large_images_are_detected_downscaled_and_mapped_back(hog):
    image = _pixels(SAMPLE_PHOTOS / "obama" / "face_recognition_knn_train_obama.jpg")
    big = np.repeat(np.repeat(image, 2, axis=0), 2, axis=1)
    detector = DETECTORS.build({"name": "dlib-hog", "detect_side": max(image.shape[:2])})
    (small_face,) = hog.detect(image)
    (big_face,) = detector.detect(big)
    assert np.allclose(np.array(big_face.box) / 2, small_face.box, atol=6)


def test_whole_image_detector_returns_the_whole_image_as_one_face():
    (face,) = DETECTORS.build({"name": "whole-image"}).detect(np.zeros((40, 30, 3), np.uint8))
    assert face.box == (0.0, 0.0, 30.0, 40.0)


def test_insightface_pack_missing_is_a_clear_error(tmp_path):
    from raypipe.registry import ComponentError

    with pytest.raises((FileNotFoundError, ComponentError), match="buffalo_l.*not found|insightface"):
        DETECTORS.build({"name": "insightface", "model_root": str(tmp_path)})
