"""Crops as crops: `detector: aligned` embeds each image as one already-aligned face, and a folder
of aligned crops is recognised as such (but the bundled sample photos are not)."""

from __future__ import annotations

import json
import logging

import cv2
import numpy as np
import pandas as pd
import pytest

from raypipe.align import Landmarker68, norm_crop
from raypipe.chips import ChipStore
from raypipe.cli import main
from raypipe.detect.crops import choose_crop_detector, crop_verdict, sample_images
from raypipe.detect.dlib import DlibHogDetector
from raypipe.detect.whole_image import FRAMINGS, aligned_chip
from raypipe.io.inputs import list_inputs
from raypipe.layout import RunLayout
from tests.conftest import SAMPLE_PHOTOS

PEOPLE = ("ariel_sharon", "colin_powell", "george_w_bush")


@pytest.fixture(scope="module")
def crop_folder(tmp_path_factory):
    """112x112 ArcFace-aligned crops of 9 sample photos made by the project's own aligner, and
    one blank grey crop in which no detector finds a face."""
    root = tmp_path_factory.mktemp("crops")
    detector, landmarker = DlibHogDetector(), Landmarker68()
    for person in PEOPLE:
        (root / person).mkdir()
        for path in sorted((SAMPLE_PHOTOS / person).glob("*.jpg"))[:3]:
            image = cv2.imread(str(path))[:, :, ::-1]
            face = landmarker.fill(image, detector.detect(image)[:1])[0]
            cv2.imwrite(str(root / person / path.name), norm_crop(image, face.landmarks, 112)[:, :, ::-1])
    cv2.imwrite(str(root / PEOPLE[0] / "blank.png"), np.full((112, 112, 3), 128, np.uint8))
    return root


def images_of(folder) -> list[str]:
    return list_inputs([str(folder)]).images


def test_aligned_crop_folder_is_recognised_and_logged(crop_folder, caplog):
    with caplog.at_level(logging.INFO):
        spec = choose_crop_detector({"name": "auto"}, images_of(crop_folder), 10**8)
    assert spec == {"name": "aligned"}
    assert "look like aligned face crops" in caplog.text


def test_sample_photos_are_not_taken_for_crops():
    spec = {"name": "auto"}
    assert choose_crop_detector(spec, images_of(SAMPLE_PHOTOS), 10**8) == spec


def test_lfw_style_square_photos_are_not_taken_for_crops():
    """The sample's 250x250 LFW photos are small and square, but the face fills under half the frame."""
    lfw_like = [p for p in images_of(SAMPLE_PHOTOS) if "krasserm_lfw10" in p]
    is_crops, why = crop_verdict(sample_images(lfw_like, 10**8))
    assert not is_crops and "0 of 8" in why


def test_a_detector_chosen_with_settings_is_kept_on_crops(crop_folder):
    spec = {"name": "dlib-hog"}
    assert choose_crop_detector(spec, images_of(crop_folder), 10**8) == spec


def arcface_points_in_dlib_chips(photo) -> np.ndarray:
    """The five ArcFace points (dlib's 68-point predictor) of ``photo``'s face, carried into
    the 150 px chip that dlib.get_face_chip cuts: a coordinate image is warped the same way."""
    import dlib

    from raypipe.align import dlib_rect
    from raypipe.models import dlib_model

    image = cv2.imread(str(photo))[:, :, ::-1].copy()
    box = DlibHogDetector().detect(image)[0].box
    shape = dlib.shape_predictor(dlib_model("shape_predictor_5"))(image, dlib_rect(box))
    ys, xs = np.mgrid[0 : image.shape[0], 0 : image.shape[1]]  # LFW photos: 250 px, fits uint8
    coords = np.dstack([xs, ys, np.zeros_like(xs)]).astype(np.uint8)
    chip = dlib.get_face_chip(coords, shape, size=150, padding=0.25).astype(np.float32)
    inside = (chip[..., :2].min(axis=2) > 2) & (chip[..., 0] < image.shape[1] - 3) & (chip[..., 1] < image.shape[0] - 3)
    chip_ys, chip_xs = np.nonzero(inside)
    to_chip, _ = cv2.estimateAffinePartial2D(np.ascontiguousarray(chip[inside][:, :2]), np.stack([chip_xs, chip_ys], 1).astype(np.float32))
    return cv2.transform(Landmarker68()(image, box)[None], to_chip)[0]


def test_dlib_framing_is_where_dlib_puts_the_arcface_points():
    photos = sorted(SAMPLE_PHOTOS.glob("*/krasserm_lfw10_*_0001.jpg"))
    measured = np.mean([arcface_points_in_dlib_chips(p) for p in photos], axis=0)
    assert np.abs(measured[:2] - FRAMINGS["dlib"][:2] * 150).max() < 2.5  # eyes
    assert np.abs(measured - FRAMINGS["dlib"] * 150).max() < 6  # nose and mouth vary more


def extracted_faces(out) -> pd.DataFrame:
    return pd.read_parquet(out / "faces.parquet")


def test_crop_folder_runs_end_to_end_one_face_per_image_without_detection(crop_folder, tmp_path, ray_session):
    out = tmp_path / "run"
    assert main(["run", str(crop_folder), "--out", str(out), "--embedder", "dlib", "--no-tracking", "--no-report"]) == 0
    assert json.loads((out / "config.json").read_text())["extract"]["detector"] == {"name": "aligned"}
    faces = extracted_faces(out)
    paths = images_of(crop_folder)
    assert sorted(faces["image_path"]) == sorted(paths)  # exactly one face per image, the blank one too
    assert (faces[["x1", "y1"]] == 0).all().all() and (faces[["x2", "y2"]] == 112).all().all()
    assert faces["landmarks"].map(lambda lm: np.isnan(lm).all()).all()  # no landmark model ran
    chips = ChipStore(RunLayout.at(out)).read(faces["face_id"])
    for face in faces.itertuples():  # one fixed warp into dlib's framing, whatever the face
        chip = cv2.imdecode(np.frombuffer(chips[face.face_id], np.uint8), cv2.IMREAD_COLOR).astype(float)
        expected = aligned_chip(cv2.imread(face.image_path), 150, "arcface", "dlib").astype(float)
        assert np.abs(chip - expected).mean() < 4
    assert len(pd.read_csv(out / "clusters.csv")) == len(paths)  # every crop reached clustering


def test_crop_detection_switched_off_detects_faces_again(crop_folder, tmp_path, ray_session):
    out = tmp_path / "run"
    args = ["extract", str(crop_folder), "--out", str(out), "--embedder", "dlib", "--no-tracking"]
    assert main([*args, "--set", "extract.detect_crops=false"]) == 0
    assert json.loads((out / "config.json").read_text())["extract"]["detector"] == {"name": "dlib-hog"}
    assert not extracted_faces(out)["image_path"].str.endswith("blank.png").any()
