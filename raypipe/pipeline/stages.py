"""Ray Data stages. Each is a class: ``__init__(config)`` keeps the config and loads its models
once per actor; ``__call__(batch)`` maps a dict-of-numpy batch to the next one. A stage never
raises on bad data: the image becomes an ``error`` row with the stage and the reason."""

from __future__ import annotations

import logging
import time
import traceback

import cv2
import numpy as np

from raypipe.align import Landmarker68
from raypipe.config import Config
from raypipe.detect import DETECTORS
from raypipe.detect.base import Face
from raypipe.embed import EMBEDDERS
from raypipe.io.decode import DecodedImage, DecodeError, decode_image
from raypipe.io.inputs import read_bytes
from raypipe.pipeline.records import ERROR, FACE, NO_FACE, empty_face_fields, to_batch
from raypipe.quality import measure

log = logging.getLogger(__name__)

JPEG_QUALITY = 92


class DetectAlignStage:
    """Read and decode images, detect faces, add landmarks, and cut aligned chips.

    Input columns: ``image_path``, ``image_id``, ``shard``. Output: one row per face (``kind`` =
    ``face``), or one row per image without faces (``no_face``) or that failed (``error``).
    """

    def __init__(self, config: dict, embedder_spec: dict):
        self.config = Config.from_dict(config)
        extract = self.config.extract
        self.detector = DETECTORS.build(extract.detector)
        self.landmarker = None if self.detector.gives_landmarks else Landmarker68()
        self.aligner = EMBEDDERS.build(embedder_spec)  # only its align() runs here
        self.chip_size = self.aligner.chip_size

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        rows = []
        for path, image_id, shard in zip(batch["image_path"], batch["image_id"], batch["shard"]):
            base = {"shard": int(shard), "image_id": str(image_id), "image_path": str(path)}
            rows.extend(self._image_rows(base))
        return to_batch(rows)

    def _image_rows(self, base: dict) -> list[dict]:
        extract = self.config.extract
        start = time.perf_counter()
        base = {**base, "decode_s": 0.0, "detect_s": 0.0}
        try:
            image = decode_image(read_bytes(base["image_path"]), extract.max_image_pixels, extract.max_side)
        except DecodeError as err:
            return [self._status_row(base, ERROR, "decode", str(err))]
        except OSError as err:
            return [self._status_row(base, ERROR, "read", f"{type(err).__name__}: {err}")]
        decoded = time.perf_counter()
        base = {**base, "width": image.width, "height": image.height, "decode_s": decoded - start}
        try:
            faces = self.detector.detect(image.pixels)
            if self.landmarker is not None:
                faces = self.landmarker.fill(image.pixels, faces)
            base["detect_s"] = time.perf_counter() - decoded
            return self._face_rows(base, image, faces) or [self._status_row(base, NO_FACE, "detect", "")]
        except Exception as err:  # noqa: BLE001 - a model failing on one image must not stop the run
            log.warning("detect/align failed on %s:\n%s", base["image_path"], traceback.format_exc())
            return [self._status_row(base, ERROR, "detect", f"{type(err).__name__}: {err}")]

    def _face_rows(self, base: dict, image: DecodedImage, faces: list[Face]) -> list[dict]:
        rows = []
        for index, face in enumerate(faces):
            start = time.perf_counter()
            chip = self.aligner.align(image.pixels, face)
            quality = measure(face, chip, image.scale)
            original = face.scaled(image.scale)
            ok, jpeg = cv2.imencode(".jpg", chip[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
            rows.append(
                {
                    **base, "kind": FACE, "stage": "", "reason": "",
                    "face_index": index, "n_faces": len(faces),
                    "x1": original.box[0], "y1": original.box[1],
                    "x2": original.box[2], "y2": original.box[3],
                    "det_score": original.score,
                    "landmarks": original.landmarks.reshape(-1).astype(np.float32),
                    "face_px": quality.face_px, "sharpness": quality.sharpness, "yaw": quality.yaw,
                    "chip": np.ascontiguousarray(chip, dtype=np.uint8),
                    "chip_jpeg": jpeg.tobytes() if ok else b"",
                    "align_s": time.perf_counter() - start,
                }  # fmt: skip
            )
            if index == 0:  # image-level timings are counted once, on the first face
                base = {**base, "decode_s": 0.0, "detect_s": 0.0}
        return rows

    def _status_row(self, base: dict, kind: str, stage: str, reason: str) -> dict:
        return {
            "width": 0, "height": 0, **base, "kind": kind, "stage": stage, "reason": reason,
            **empty_face_fields(self.chip_size),
        }  # fmt: skip


class EmbedStage:
    """Embed the aligned chips of ``face`` rows; drops the chip pixels from the batch."""

    def __init__(self, embedder_spec: dict):
        self.embedder = EMBEDDERS.build(embedder_spec)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        start = time.perf_counter()
        chips = batch.pop("chip")
        is_face = batch["kind"] == FACE
        embedding = np.zeros((len(chips), self.embedder.dim), dtype=np.float32)
        if is_face.any():
            embedding[is_face] = self.embedder.embed(chips[is_face])
        batch["embedding"] = embedding
        batch["embed_s"] = np.full(len(chips), (time.perf_counter() - start) / max(len(chips), 1))
        return batch
