"""The RFB detector (fr_detect.onnx) and 68-point landmarks (fr_landmark.onnx): priors for any
input size, torch post-processing equal to the graph's own decoding and to numpy NMS, boxes
against truth, landmark order, and the detect -> align -> ArcFace chain without dlib."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

from raypipe.detect.boxes import box_iou
from raypipe.evaluation.detection import annotated_images, match_detections
from raypipe.io.decode import decode_image
from tests.conftest import REPO, SAMPLE_PHOTOS, need_shared

OBAMA = SAMPLE_PHOTOS / "obama" / "face_recognition_knn_train_obama.jpg"
#: Drawn by hand on the 910x1137 photo: ears to ears, hairline to chin.
OBAMA_FACE = (360, 125, 625, 400)


@pytest.fixture(scope="module")
def models(faceplugin_models):
    """``name`` -> path of that faceplugin model file."""
    return lambda name: str(faceplugin_models / name)


def _pixels(path):
    return decode_image(path.read_bytes(), 100_000_000, 2400).pixels


@pytest.fixture(scope="module")
def rfb(models):
    from raypipe.detect import DETECTORS

    return DETECTORS.build({"name": "rfb", "model_path": models("fr_detect.onnx"),
                            "landmark_path": models("fr_landmark.onnx"), "device": "cpu"})  # fmt: skip


def test_priors_for_640x480_have_the_count_and_layout_of_the_feature_maps():
    from raypipe.detect.rfb import rfb_priors

    priors = rfb_priors(640, 480)
    # maps of 80x60 (3 sizes), 40x30 (2), 20x15 (2), 10x8 (3)
    assert priors.shape == (80 * 60 * 3 + 40 * 30 * 2 + 20 * 15 * 2 + 10 * 8 * 3, 4)
    np.testing.assert_allclose(priors[0], [0.5 / 80, 0.5 / 60, 10 / 640, 10 / 480], rtol=1e-6)
    np.testing.assert_allclose(priors[2], [0.5 / 80, 0.5 / 60, 24 / 640, 24 / 480], rtol=1e-6)
    np.testing.assert_allclose(priors[3, :2], [1.5 / 80, 0.5 / 60], rtol=1e-6)  # next column
    np.testing.assert_allclose(priors[80 * 3, :2], [0.5 / 80, 1.5 / 60], rtol=1e-6)  # next row
    np.testing.assert_allclose(priors[-1], [9.5 / 10, 7.5 / 8, 256 / 640, 256 / 480], rtol=1e-6)


@pytest.mark.registry
def test_priors_for_320x240_equal_those_baked_into_the_exported_graph(models):
    import onnx
    from onnx import numpy_helper

    from raypipe.detect.rfb import rfb_priors

    model = onnx.load(models("fr_detect.onnx"))
    baked = [numpy_helper.to_array(n.attribute[0].t)[0] for n in model.graph.node
             if n.op_type == "Constant" and n.attribute[0].t.dims[1:] == [4420, 2]]  # fmt: skip
    centres, sizes = baked[1], baked[0]  # the graph adds centres, multiplies sizes
    np.testing.assert_allclose(
        rfb_priors(320, 240), np.concatenate([centres, sizes], axis=1), atol=1e-6
    )


@pytest.mark.registry
def test_torch_decoding_of_the_headless_graph_equals_the_graphs_own_boxes(models):
    import onnxruntime as ort

    from raypipe.detect.onnx_runner import OnnxRunner
    from raypipe.detect.rfb import decode_boxes, headless_graph, rfb_priors
    from raypipe.detect.torch_ops import letterbox, to_device

    path = models("fr_detect.onnx")
    canvas, _ = letterbox([to_device(_pixels(OBAMA), torch.device("cpu"))], 320, 240, fill=127.0)
    x = (canvas - 127.0) / 128.0
    scores, boxes = ort.InferenceSession(path).run(["scores", "boxes"], {"input": x.numpy()})
    for backend in ("onnxruntime", "torch"):
        logits, loc = OnnxRunner(headless_graph(path), "cpu", backend)(x)
        ours = decode_boxes(loc, torch.from_numpy(rfb_priors(320, 240)))
        np.testing.assert_allclose(ours.numpy(), boxes, atol=1e-5)
        np.testing.assert_allclose(torch.softmax(logits, -1).numpy(), scores, atol=1e-5)


@pytest.mark.registry
def test_the_face_of_a_sample_photo_matches_its_hand_drawn_box(rfb):
    (face,) = rfb.detect(_pixels(OBAMA))
    assert box_iou(np.array([face.box]), np.array([OBAMA_FACE]))[0, 0] > 0.8


@pytest.mark.shared
@pytest.mark.registry
def test_boxes_match_the_annotated_faces_of_a_group_photo(rfb):
    groups = need_shared("data", "groups")
    truth = annotated_images(groups, [groups / "annotations" / "dlib_testing.xml"], prefix="dlib_")
    path = groups / "dlib_2008_002470.jpg"
    faces = rfb.detect(_pixels(path))
    tp, fp, fn = match_detections(np.array([f.box for f in faces]).reshape(-1, 4), truth[path], 0.5)
    assert (tp, fn) == (6, 0) and fp <= 1


@pytest.mark.registry
def test_five_landmarks_lie_inside_the_box_in_arcface_order(rfb):
    (face,) = rfb.detect(_pixels(OBAMA))
    x1, y1, x2, y2 = face.box
    (left_eye, right_eye, nose, mouth_left, mouth_right) = face.landmarks
    assert ((face.landmarks >= (x1, y1)) & (face.landmarks <= (x2, y2))).all()
    assert left_eye[0] < nose[0] < right_eye[0] and mouth_left[0] < mouth_right[0]
    assert max(left_eye[1], right_eye[1]) < nose[1] < min(mouth_left[1], mouth_right[1])


@pytest.mark.registry
def test_landmarks_follow_the_face_in_a_batch_of_differently_sized_images(rfb):
    image = _pixels(OBAMA)
    shifted = np.zeros((image.shape[0] + 100, image.shape[1] + 60, 3), np.uint8)
    shifted[100:, 60:] = image
    (alone,), (moved,) = rfb.detect_batch([image, shifted])
    np.testing.assert_allclose(moved.landmarks - (60, 100), alone.landmarks, atol=4)
    # the two are letterboxed at different scales: the boxes agree, not to the pixel
    assert box_iou(np.subtract([moved.box], (60, 100, 60, 100)), np.array([alone.box]))[0, 0] > 0.8


def test_missing_models_are_a_clear_error(tmp_path):
    from raypipe.detect import DETECTORS
    from raypipe.registry import ComponentError

    with pytest.raises(ComponentError, match="fr_detect.onnx not found"):
        DETECTORS.build({"name": "rfb", "model_root": str(tmp_path)})


CHAIN = """
import sys
sys.modules["dlib"] = None  # any import of dlib fails
import numpy as np
from pathlib import Path
from raypipe.detect import DETECTORS
from raypipe.embed import EMBEDDERS
from raypipe.io.decode import decode_image
det = DETECTORS.build({"name": "rfb", "model_path": sys.argv[1], "landmark_path": sys.argv[2], "device": "cpu"})
arc = EMBEDDERS.build({"name": "arcface-onnx", "model_path": sys.argv[3], "device": "cpu"})
chips = []
for path in sys.argv[4:]:
    image = decode_image(Path(path).read_bytes(), 10**8, 2400).pixels
    face = det.detect(image)[0]
    chips.append(arc.align(image, face))
e = arc.embed(np.stack(chips))
print(e.shape[0], e.shape[1], float(e[0] @ e[1]), float(e[0] @ e[2]))
"""


@pytest.mark.registry
def test_the_chain_without_dlib_embeds_two_photos_of_one_person_closer_than_another(models):
    arcface = models("fr_feature.onnx")
    obama = sorted((SAMPLE_PHOTOS / "obama").glob("*.jpg"))[:2]
    other = min((SAMPLE_PHOTOS / "tony_blair").glob("*.jpg"))
    result = subprocess.run(
        [sys.executable, "-c", CHAIN, models("fr_detect.onnx"), models("fr_landmark.onnx"), str(arcface),
         *map(str, [*obama, other])], capture_output=True, text=True, cwd=REPO, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    n, dim, same, different = result.stdout.split()
    assert (int(n), int(dim)) == (3, 512)
    assert float(same) > 0.4 > float(different)


def test_auto_detector_on_photos_is_rfb_when_its_models_are_under_the_model_root(tmp_path, caplog):
    from raypipe.detect.select import resolve_detector

    for name in ("fr_detect.onnx", "fr_landmark.onnx"):
        (tmp_path / name).write_bytes(b"")
    root = str(tmp_path)
    with caplog.at_level("INFO", logger="raypipe.detect.select"):
        spec = resolve_detector({"name": "auto"}, "photo", root, "arcface-onnx")
    assert spec == {"name": "rfb", "model_root": root}
    assert "detector: rfb" in caplog.text
    assert resolve_detector({"name": "mtcnn"}, "photo", root) == {"name": "mtcnn"}


def test_auto_detector_on_photos_is_dlib_hog_without_the_rfb_models_or_with_the_dlib_embedder(
    tmp_path, caplog
):
    from raypipe.detect.select import resolve_detector

    (tmp_path / "fr_detect.onnx").write_bytes(b"")  # the landmark model is missing
    with caplog.at_level("INFO", logger="raypipe.detect.select"):
        assert resolve_detector({"name": "auto"}, "photo", str(tmp_path), "arcface-onnx") == {
            "name": "dlib-hog"
        }
    assert "fr_landmark.onnx not found" in caplog.text
    (tmp_path / "fr_landmark.onnx").write_bytes(b"")
    # the dlib embedder re-fits dlib's landmarks to the box: it stays with dlib's boxes
    assert resolve_detector({"name": "auto"}, "photo", str(tmp_path), "dlib") == {
        "name": "dlib-hog"
    }


def test_landmark_crop_of_an_rfb_box_is_the_fitted_square_lower_and_tighter():
    from raypipe.detect.landmarks68 import landmark_crops

    # a 100 x 150 box: centre (150, 175) moves by (0.04 * 100, 0.12 * 150), side 0.85 * 150
    crops = landmark_crops(torch.tensor([[100.0, 100.0, 200.0, 250.0]]))
    np.testing.assert_allclose(crops.numpy(), [[90.25, 129.25, 217.75, 256.75]], atol=1e-4)


def test_a_named_detector_that_looks_up_models_gets_the_configured_model_root(tmp_path):
    """`--detector rfb --model-root DIR` finds its models under DIR (the workers see the spec)."""
    from raypipe.detect.select import resolve_detector

    root, elsewhere = tmp_path / "root", tmp_path / "elsewhere"
    for folder in (root, elsewhere):
        folder.mkdir()
        for name in ("fr_detect.onnx", "fr_landmark.onnx"):
            (folder / name).write_bytes(b"")
    root = str(root)
    assert resolve_detector({"name": "rfb"}, "photo", root) == {"name": "rfb", "model_root": root}
    explicit = {"name": "rfb", "model_root": str(elsewhere)}
    assert resolve_detector(explicit, "photo", root) == explicit
    assert resolve_detector({"name": "dlib-hog"}, "photo", root) == {"name": "dlib-hog"}


def test_a_named_detector_whose_models_are_missing_is_a_one_line_error(tmp_path):
    from raypipe.cli import main

    code = main(
        [
            "run",
            str(SAMPLE_PHOTOS),
            "--out",
            str(tmp_path / "run"),
            "--detector",
            "rfb",
            "--model-root",
            str(tmp_path),
            "--no-tracking",
        ]
    )
    assert code == 2
    assert not (tmp_path / "run" / "faces.parquet").exists()


def test_auto_detector_on_comic_pages_is_the_shipped_drawn_face_detector(tmp_path):
    from raypipe.detect.select import resolve_detector

    (tmp_path / "lbpcascade_animeface.xml").write_text("")  # a cascade there is not picked up
    assert resolve_detector({"name": "auto"}, "comic", str(tmp_path))["name"] == "drawn-faces"
    spec = resolve_detector({"name": "anime-cascade", "cascade_path": str(tmp_path / "lbpcascade_animeface.xml")}, "comic", str(tmp_path))
    assert spec["name"] == "anime-cascade"  # still there by name


#: Photos on which fr_landmark cropped on the whole RFB box put the five points 0.09-0.18 eye
#: distances from dlib's (0.02-0.04 with the fitted crop): three people, two photos each.
HARD_PHOTOS = (
    "vladimir_putin/krasserm_lfw10_Vladimir_Putin_0010.jpg",
    "vladimir_putin/krasserm_lfw10_Vladimir_Putin_0005.jpg",
    "jacques_chirac/krasserm_lfw10_Jacques_Chirac_0007.jpg",
    "jacques_chirac/krasserm_lfw10_Jacques_Chirac_0020.jpg",
    "colin_powell/krasserm_lfw10_Colin_Powell_0009.jpg",
    "colin_powell/krasserm_lfw10_Colin_Powell_0002.jpg",
)


@pytest.mark.shared
@pytest.mark.registry
def test_default_run_with_the_rfb_models_lands_dlibs_five_points_and_clusters_the_people(
    faceplugin_models, tmp_path, ray_session
):
    import json
    import shutil

    import pandas as pd

    from raypipe.align import Landmarker68
    from raypipe.cli import main
    from raypipe.detect import DETECTORS

    photos = need_shared("data", "photos")
    folder = tmp_path / "photos"
    for name in HARD_PHOTOS:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(photos / name, folder / name)
    out = tmp_path / "run"
    args = ["run", str(folder), "--out", str(out), "--model-root", str(faceplugin_models)]
    assert main([*args, "--labels", str(folder), "--no-report", "--no-tracking"]) == 0
    assert json.loads((out / "config.json").read_text())["extract"]["detector"]["name"] == "rfb"
    faces = pd.read_parquet(out / "faces.parquet")
    assert len(faces) == len(HARD_PHOTOS) == faces.image_path.nunique()
    hog, dlib_points = DETECTORS.build("dlib-hog"), Landmarker68()
    for face in faces.itertuples():
        image = _pixels(folder / face.image_path.split("photos/")[-1])
        reference = dlib_points(image, hog.detect(image)[0].box)
        error = np.linalg.norm(np.reshape(face.landmarks, (5, 2)) - reference, axis=1).mean()
        assert error < 0.06 * np.linalg.norm(reference[1] - reference[0]), face.image_path
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["bcubed_f"] == 1.0 and metrics["n_clusters"] == 3
