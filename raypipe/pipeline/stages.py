"""Ray Data stages. Each is a class: ``__init__(config)`` keeps the config and loads its models
once per actor; ``__call__(batch)`` maps a dict-of-numpy batch to the next one. A stage never
raises on bad data: the image becomes an ``error`` row with the stage and the reason."""

from __future__ import annotations

import logging
import time
import traceback
from collections import Counter

import cv2
import numpy as np

from raypipe.align import Landmarker68
from raypipe.comic.archives import read_page
from raypipe.config import Config, ExtractConfig
from raypipe.detect import DETECTORS
from raypipe.detect.base import Face
from raypipe.detect.whole_image import aligned_chip
from raypipe.embed import EMBEDDERS, Embedder
from raypipe.io.decode import DecodedImage, DecodeError, decode_image
from raypipe.pipeline.records import ERROR, FACE, NO_FACE, PANEL, TEXT, empty_face_fields, to_batch
from raypipe.quality import measure

log = logging.getLogger(__name__)

JPEG_QUALITY = 92


class DecodeStage:
    """Read and decode images. Adds ``pixels`` (RGB uint8, downscaled to ``max_side``), size,
    scale and timing; a file that cannot be read or decoded gets ``error_stage`` and ``error``.

    Runs as CPU tasks of its own when detection runs on a GPU (decoding then scales with the
    cluster's CPUs); inside the detection actors otherwise (no copy of the pixels).
    """

    def __init__(self, extract_config: dict):
        self.config = ExtractConfig(**extract_config)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        columns = {k: [] for k in ("pixels", "width", "height", "scale", "decode_s", "error_stage", "error")}
        for path in batch["image_path"]:
            start = time.perf_counter()
            image, stage, error = self._decode(str(path))
            columns["pixels"].append(image.pixels if image else np.zeros((1, 1, 3), np.uint8))
            columns["width"].append(image.width if image else 0)
            columns["height"].append(image.height if image else 0)
            columns["scale"].append(image.scale if image else 1.0)
            columns["decode_s"].append(time.perf_counter() - start)
            columns["error_stage"].append(stage)
            columns["error"].append(error)
        out = dict(batch)
        out["pixels"] = _object_array(columns.pop("pixels"))
        for name, values in columns.items():
            out[name] = np.array(values, dtype=object if name.startswith("error") else None)
        return out

    def _decode(self, path: str) -> tuple[DecodedImage | None, str, str]:
        try:
            return decode_image(read_page(path), self.config.max_image_pixels, self.config.max_side), "", ""
        except DecodeError as err:
            return None, "decode", str(err)
        except OSError as err:
            return None, "read", f"{type(err).__name__}: {err}"


def decode_batch(batch: dict[str, np.ndarray], extract_config: dict) -> dict[str, np.ndarray]:
    """:class:`DecodeStage` as a plain function, so that Ray Data runs it as stateless tasks."""
    return DecodeStage(extract_config)(batch)


def _object_array(arrays: list[np.ndarray]) -> np.ndarray:
    out = np.empty(len(arrays), dtype=object)
    out[:] = arrays
    return out


class DetectAlignStage:
    """Detect faces (batched over images), add landmarks, and cut aligned chips.

    Input: ``image_path``, ``image_id``, ``shard``, and the columns of :class:`DecodeStage` (or
    none of them: the stage then decodes itself). Output: one row per face (``kind`` = ``face``),
    or one row per image without faces (``no_face``) or that failed (``error``).
    """

    def __init__(self, config: dict, embedder_spec: dict):
        self.config = Config.from_dict(config)
        self.decoder = DecodeStage(config["extract"])
        self.detector = DETECTORS.build(self.config.extract.detector)
        self.comic = self.config.extract.domain == "comic"
        # a folder of pre-cropped drawn faces (whole-image detector) has no pages to split
        self.split_pages = self.comic and self.config.extract.detector.get("name") != "whole-image"
        # drawn faces get no photo landmarks: their chips are box crops (see raypipe.embed.crop)
        self.aligned_input = self.detector.gives_aligned_chips
        self.landmarker = None if self.detector.gives_landmarks or self.comic or self.aligned_input else Landmarker68()
        self.aligner = EMBEDDERS.build(embedder_spec)  # only its align() runs here
        self.chip_size = self.aligner.chip_size

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        if "pixels" not in batch:
            batch = self.decoder(batch)
        rows: list[dict] = []
        bases = [
            {"shard": int(batch["shard"][i]), "image_id": str(batch["image_id"][i]),
             "image_path": str(batch["image_path"][i]), "width": int(batch["width"][i]),
             "height": int(batch["height"][i]), "decode_s": float(batch["decode_s"][i]), "detect_s": 0.0}
            for i in range(len(batch["image_path"]))
        ]  # fmt: skip
        decoded = [i for i in range(len(bases)) if not batch["error"][i]]
        for i in set(range(len(bases))) - set(decoded):
            rows.append(self._status_row(bases[i], ERROR, str(batch["error_stage"][i]), str(batch["error"][i])))
        start = time.perf_counter()
        pages = [self._split(batch["pixels"][i]) for i in decoded] if self.split_pages else None
        found = self._detect([batch["pixels"][i] for i in decoded], [bases[i]["image_path"] for i in decoded], pages)
        per_image = (time.perf_counter() - start) / max(len(decoded), 1)
        for n, (i, faces) in enumerate(zip(decoded, found)):
            base = {**bases[i], "detect_s": per_image}
            if isinstance(faces, str):
                rows.append(self._status_row(base, ERROR, "detect", faces))
                continue
            image = DecodedImage(batch["pixels"][i], base["width"], base["height"], float(batch["scale"][i]))
            panels = [-1] * len(faces)
            if pages is not None:
                panels, faces = [p for p, _ in faces], [f for _, f in faces]
            image_rows = self._face_rows(base, image, faces, panels) or [self._status_row(base, NO_FACE, "detect", "")]
            if pages is not None:
                image_rows += self._page_rows(base, image, pages[n])
            rows.extend(image_rows)
        rows_per_image = Counter(row["image_id"] for row in rows)
        return to_batch([{**row, "n_rows": rows_per_image[row["image_id"]]} for row in rows])

    def _split(self, pixels: np.ndarray) -> list:
        from raypipe.comic.split import split_page

        comic = self.config.comic
        return split_page(pixels, right_to_left=comic.right_to_left, mask_text=comic.mask_text)

    def _detect(self, images: list[np.ndarray], paths: list[str], pages: list | None) -> list[list[Face] | str]:
        """Faces per image with landmarks, or the error message of an image that failed.

        Comic pages are searched panel by panel (text masked): each face comes back in page
        coordinates as ``(panel index, face)``.
        """
        if pages is not None:
            found = [self._detect_panels(crops, path) for crops, path in zip(pages, paths)]
        else:
            try:
                found = self.detector.detect_batch(images)
            except Exception:  # noqa: BLE001 - retry image by image to isolate the failing one
                found = [self._detect_one(image, path) for image, path in zip(images, paths)]
        if self.landmarker is not None:
            found = [f if isinstance(f, str) else self.landmarker.fill(image, f) for image, f in zip(images, found)]
        return found

    def _detect_panels(self, crops: list, path: str) -> list[tuple[int, Face]] | str:
        from raypipe.comic.split import detect_in_panels

        try:
            tagged = detect_in_panels(crops, self.detector)
        except Exception as err:  # noqa: BLE001 - a model failing on one page must not stop the run
            log.warning("detection failed on %s:\n%s", path, traceback.format_exc())
            return f"{type(err).__name__}: {err}"
        return tagged

    def _page_rows(self, base: dict, image: DecodedImage, crops: list) -> list[dict]:
        """One row per panel (its crop as JPEG) and per distinct text region of a comic page."""
        rows = []
        for crop in crops:
            ok, jpeg = cv2.imencode(".jpg", crop.image[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
            row = self._status_row(base, PANEL, "", "")
            rows.append({**row, **_box_columns(crop.box, image.scale), "panel_index": crop.index,
                         "chip_jpeg": jpeg.tobytes() if ok else b""})  # fmt: skip
        texts = dict.fromkeys(tuple(box) for crop in crops for box in crop.text_boxes)
        rows += [{**self._status_row(base, TEXT, "", ""), **_box_columns(box, image.scale)} for box in texts]
        return rows

    def _detect_one(self, image: np.ndarray, path: str) -> list[Face] | str:
        try:
            return self.detector.detect(image)
        except Exception as err:  # noqa: BLE001 - a model failing on one image must not stop the run
            log.warning("detection failed on %s:\n%s", path, traceback.format_exc())
            return f"{type(err).__name__}: {err}"

    def _face_rows(self, base: dict, image: DecodedImage, faces: list[Face], panels: list[int]) -> list[dict]:
        rows = []
        for index, (face, panel) in enumerate(zip(faces, panels)):
            start = time.perf_counter()
            chip = (
                aligned_chip(image.pixels, self.chip_size, self.detector.framing, self.aligner.framing)
                if self.aligned_input
                else self.aligner.align(image.pixels, face)
            )
            quality = measure(face, chip, image.scale)
            original = face.scaled(image.scale)
            landmarks = np.full(10, np.nan, np.float32) if original.landmarks is None else original.landmarks.reshape(-1)
            ok, jpeg = cv2.imencode(".jpg", chip[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
            rows.append(
                {
                    **base, "kind": FACE, "stage": "", "reason": "",
                    "face_index": index, "panel_index": panel,
                    "x1": original.box[0], "y1": original.box[1],
                    "x2": original.box[2], "y2": original.box[3],
                    "det_score": original.score,
                    "landmarks": landmarks.astype(np.float32),
                    "face_px": quality.face_px, "sharpness": quality.sharpness, "yaw": quality.yaw,
                    "chip": np.ascontiguousarray(chip, dtype=np.uint8),
                    "chip_jpeg": jpeg.tobytes() if ok else b"",
                    "align_s": time.perf_counter() - start,
                }
            )
            if index == 0:  # image-level timings are counted once, on the first face
                base = {**base, "decode_s": 0.0, "detect_s": 0.0}
        return rows

    def _status_row(self, base: dict, kind: str, stage: str, reason: str) -> dict:
        return {**base, "kind": kind, "stage": stage, "reason": reason, **empty_face_fields(self.chip_size)}


def _box_columns(box, scale: float) -> dict:
    return dict(zip(("x1", "y1", "x2", "y2"), (float(v) * scale for v in box)))


class EmbedStage:
    """Embed the aligned chips of ``face`` rows; drops the chip pixels from the batch.

    ``embedder``: an already built embedder to use instead of building ``embedder_spec``.
    """

    def __init__(self, embedder_spec: dict, embedder: Embedder | None = None):
        self.embedder = embedder or EMBEDDERS.build(embedder_spec)

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


class DetectEmbedStage:
    """Detection, alignment and embedding in one actor, for clusters without GPUs: there,
    handing chips from one pool to another costs CPU and gives nothing back."""

    def __init__(self, config: dict, embedder_spec: dict):
        self.detect = DetectAlignStage(config, embedder_spec)
        self.embed = EmbedStage(embedder_spec, embedder=self.detect.aligner)  # one model per actor

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return self.embed(self.detect(batch))
