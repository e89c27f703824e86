"""68-point landmarks where the detector gives none, aligned chips, face quality and chip JPEGs."""

from __future__ import annotations

import logging
import traceback

import cv2
import numpy as np

from raypipe.config import Config
from raypipe.detect import DETECTORS
from raypipe.detect.whole_image import aligned_chip
from raypipe.embed import EMBEDDERS
from raypipe.pipeline.contract import Stage
from raypipe.pipeline.work import ShardWork, failure, select
from raypipe.quality import measure
from raypipe.registry import split_spec

log = logging.getLogger(__name__)

JPEG_QUALITY = 92
NO_LANDMARKS = np.full(10, np.nan, np.float32)


def jpeg(rgb: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".jpg", rgb[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    return data.tobytes() if ok else b""


class AlignStage(Stage):
    """Gives each face its aligned ``chip`` (dropped by the embed stage), the chip's JPEG, box,
    score and five landmarks in original pixels, quality, and its index in its image. An image
    whose landmarks or chips fail fails at ``align``; the decoded pixels are let go after."""

    name = "align"
    needs = frozenset({"faces.image", "faces.face", "images.pixels", "images.scale"})
    gives = frozenset(
        {"faces.chip", "faces.chip_jpeg", "faces.box", "faces.det_score", "faces.landmarks", "faces.face_px",
         "faces.sharpness", "faces.yaw", "faces.face_index"}
    )  # fmt: skip

    def __init__(self, config: Config, embedder_spec: dict):
        # only the embedder's align() runs here, never its model: on the CPU, even where the
        # model itself is pinned to a GPU (this stage runs on CPU tasks in the pooled topology)
        name, params = split_spec(embedder_spec)
        self.embedder_spec = {"name": name, **params, **({"device": "cpu"} if "device" in params else {})}
        self.detector_spec = config.extract.detector
        detector = DETECTORS.resolve(split_spec(self.detector_spec)[0])
        # aligned crops are chips already: one fixed transform, no landmarks
        self.aligned_input = detector.gives_aligned_chips
        # drawn faces get no photo landmarks, nor faces cut as box crops (see raypipe.embed.crop)
        self.photo_landmarks = config.extract.domain != "comic" and not self.aligned_input
        self.aligner = self.crop_framing = self._landmarker = None

    def setup(self) -> None:
        self.aligner = EMBEDDERS.build(self.embedder_spec)
        if self.aligned_input:
            self.crop_framing = DETECTORS.build(self.detector_spec).framing

    def landmarker(self):
        """dlib's 68-point predictor, loaded at the first face whose detector gave no landmarks."""
        if self._landmarker is None:
            from raypipe.align import Landmarker68

            self._landmarker = Landmarker68()
        return self._landmarker

    def process(self, work: ShardWork) -> None:
        faces, images = work.faces, work.images
        rows = {name: [] for name in ("chip", "chip_jpeg", "box", "det_score", "landmarks", "face_px", "sharpness", "yaw")}
        kept, face_index, failed = [], [], set()
        for image, group in _by_image(faces["image"]):
            try:
                made = [self._face(images["pixels"][image], images["scale"][image], faces["face"][n]) for n in group]
            except Exception as err:  # noqa: BLE001 - one image's chips failing must not stop the run
                log.warning("alignment failed on %s:\n%s", images["image_path"][image], traceback.format_exc())
                failed.add((image, failure(err)))
                continue
            for values in made:
                for name, value in zip(rows, values):
                    rows[name].append(value)
            kept += group
            face_index += range(len(group))
        work.faces = {**select(faces, kept), **rows, "face_index": face_index}
        for image, reason in failed:
            work.fail(image, "align", reason)
        images["pixels"] = [None] * len(images["pixels"])

    def _face(self, pixels: np.ndarray, scale: float, face) -> tuple:
        if face.landmarks is None and self.photo_landmarks and self.aligner.aligns_by_landmarks:
            face = self.landmarker().fill(pixels, [face])[0]
        if self.aligned_input:
            chip = aligned_chip(pixels, self.aligner.chip_size, self.crop_framing, self.aligner.framing)
        else:
            chip = self.aligner.align(pixels, face)
        chip = np.ascontiguousarray(chip, dtype=np.uint8)
        quality = measure(face, chip, scale)
        original = face.scaled(scale)
        landmarks = NO_LANDMARKS if original.landmarks is None else original.landmarks.reshape(-1).astype(np.float32)
        return (chip, jpeg(chip), original.box, float(original.score), landmarks,
                quality.face_px, quality.sharpness, quality.yaw)  # fmt: skip


def _by_image(images: list[int]) -> list[tuple[int, list[int]]]:
    """Face rows grouped by image, in order (a shard's faces come image by image)."""
    groups: dict[int, list[int]] = {}
    for row, image in enumerate(images):
        groups.setdefault(image, []).append(row)
    return list(groups.items())
