"""The work of one shard, done and written by a Ray Data task (or actor, on GPUs).

:class:`ShardStage` loads the models once (per actor, or per worker process for tasks: see
:func:`extract_shards`), and for each shard key it is given reads the shard's list file, decodes, detects, aligns and embeds its images in batches, writes
the shard's tables and chips straight to the run folder (see :mod:`raypipe.pipeline.shards`)
and returns one small row of counts: no pixels or chips travel back to the driver.

No input stops a run: anything that goes wrong while reading, decoding, detecting or aligning
one image (an unexpected exception included, named by its type) becomes that image's ``error``
row with the stage and the reason.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections import defaultdict

import cv2
import numpy as np

from raypipe.align import Landmarker68
from raypipe.comic.archives import read_page
from raypipe.config import Config, ExtractConfig
from raypipe.detect import DETECTORS
from raypipe.detect.base import Face
from raypipe.detect.whole_image import aligned_chip
from raypipe.embed import EMBEDDERS
from raypipe.io.decode import DecodedImage, DecodeError, decode_image
from raypipe.layout import RunLayout
from raypipe.pipeline.listing import read_list_file
from raypipe.pipeline.records import ERROR, FACE, NO_FACE, PANEL, TEXT, empty_face_fields
from raypipe.pipeline.shards import write_shard
from raypipe.quality import measure

log = logging.getLogger(__name__)

JPEG_QUALITY = 92


def _failure(err: Exception) -> str:
    return f"{type(err).__name__}: {err}"


class Decoder:
    """Read and decode one image, downscaled to ``max_side``; a failure is ``(None, stage, reason)``."""

    def __init__(self, extract_config: ExtractConfig):
        self.config = extract_config

    def __call__(self, path: str) -> tuple[DecodedImage | None, str, str]:
        try:
            data = read_page(path)
        except Exception as err:  # noqa: BLE001 - one unreadable input must not stop the run
            return None, "read", _failure(err)
        try:
            return decode_image(data, self.config.max_image_pixels, self.config.max_side), "", ""
        except DecodeError as err:
            return None, "decode", str(err)
        except Exception as err:  # noqa: BLE001
            return None, "decode", _failure(err)


class DetectAlignStage:
    """Detect faces (batched over images), add landmarks, and cut aligned chips.

    :meth:`rows` turns decoded images into rows: one per face (``kind`` = ``face``, with its
    ``chip``), or one per image without faces (``no_face``) or that failed (``error``); comic
    pages also give one row per panel and per text region.
    """

    def __init__(self, config: Config, embedder_spec: dict):
        self.config = config
        self.detector = DETECTORS.build(config.extract.detector)
        self.comic = config.extract.domain == "comic"
        # a folder of pre-cropped drawn faces (whole-image detector) has no pages to split
        self.split_pages = self.comic and config.extract.detector.get("name") != "whole-image"
        # aligned crops are chips already: one fixed transform, no landmarks
        self.aligned_input = self.detector.gives_aligned_chips
        self.aligner = EMBEDDERS.build(embedder_spec)  # also the embedder of ShardStage
        # drawn faces get no photo landmarks, nor faces cut as box crops (see raypipe.embed.crop)
        needs_landmarks = self.aligner.aligns_by_landmarks and not (
            self.detector.gives_landmarks or self.comic or self.aligned_input
        )
        self.landmarker = Landmarker68() if needs_landmarks else None
        self.chip_size = self.aligner.chip_size

    def rows(self, bases: list[dict], images: list[DecodedImage], timings: dict[str, float]) -> list[dict]:
        """Rows of the decoded ``images``; ``bases`` hold each image's id, path and size."""
        start = time.perf_counter()
        pages = [self._split(image.pixels, base) for image, base in zip(images, bases)] if self.split_pages else None
        found = self._detect([image.pixels for image in images], [b["image_path"] for b in bases], pages)
        timings["detect_s"] += time.perf_counter() - start
        rows = []
        for n, (base, image, faces) in enumerate(zip(bases, images, found)):
            if isinstance(faces, str):
                rows.append(self.status_row(base, ERROR, "detect", faces))
                continue
            try:
                rows.extend(self._image_rows(base, image, faces, pages[n] if pages else None, timings))
            except Exception as err:  # noqa: BLE001 - one image's chips failing must not stop the run
                log.warning("alignment failed on %s:\n%s", base["image_path"], traceback.format_exc())
                rows.append(self.status_row(base, ERROR, "align", _failure(err)))
        return rows

    def _image_rows(self, base: dict, image: DecodedImage, faces, page, timings: dict[str, float]) -> list[dict]:
        panels = [-1] * len(faces)
        if page is not None:
            panels, faces = [p for p, _ in faces], [f for _, f in faces]
        rows = self._face_rows(base, image, faces, panels, timings) or [self.status_row(base, NO_FACE, "detect", "")]
        return rows + (self._page_rows(base, image, page) if page is not None else [])

    def _split(self, pixels: np.ndarray, base: dict) -> list | str:
        from raypipe.comic.split import split_page

        comic = self.config.comic
        try:
            return split_page(pixels, right_to_left=comic.right_to_left, mask_text=comic.mask_text)
        except Exception as err:  # noqa: BLE001 - one page that cannot be split must not stop the run
            log.warning("panel split failed on %s:\n%s", base["image_path"], traceback.format_exc())
            return _failure(err)

    def _detect(self, images: list[np.ndarray], paths: list[str], pages: list | None) -> list[list[Face] | str]:
        """Faces per image with landmarks, or the error message of an image that failed.

        Comic pages are searched panel by panel (text masked): each face comes back in page
        coordinates as ``(panel index, face)``.
        """
        if pages is not None:
            found = [crops if isinstance(crops, str) else self._detect_panels(crops, path) for crops, path in zip(pages, paths)]
        else:
            try:
                found = self.detector.detect_batch(images)
            except Exception:  # noqa: BLE001 - retry image by image to isolate the failing one
                found = [self._guarded(self.detector.detect, image, path) for image, path in zip(images, paths)]
        if self.landmarker is not None:
            found = [f if isinstance(f, str) else self._guarded(self.landmarker.fill, image, path, f)
                     for image, path, f in zip(images, paths, found)]  # fmt: skip
        return found

    def _detect_panels(self, crops: list, path: str) -> list[tuple[int, Face]] | str:
        from raypipe.comic.split import detect_in_panels

        return self._guarded(detect_in_panels, crops, path, self.detector)

    @staticmethod
    def _guarded(function, image, path: str, *args):
        """``function(image, *args)``, or the error message when it fails on this image."""
        try:
            return function(image, *args)
        except Exception as err:  # noqa: BLE001 - a model failing on one image must not stop the run
            log.warning("detection failed on %s:\n%s", path, traceback.format_exc())
            return _failure(err)

    def _page_rows(self, base: dict, image: DecodedImage, crops: list) -> list[dict]:
        """One row per panel (its crop as JPEG) and per distinct text region of a comic page."""
        rows = []
        for crop in crops:
            row = self.status_row(base, PANEL, "", "")
            rows.append({**row, **_box_columns(crop.box, image.scale), "panel_index": crop.index,
                         "chip_jpeg": _jpeg(crop.image)})  # fmt: skip
        texts = dict.fromkeys(tuple(box) for crop in crops for box in crop.text_boxes)
        rows += [{**self.status_row(base, TEXT, "", ""), **_box_columns(box, image.scale)} for box in texts]
        return rows

    def _face_rows(self, base: dict, image: DecodedImage, faces: list[Face], panels: list[int], timings) -> list[dict]:
        start = time.perf_counter()
        rows = []
        for index, (face, panel) in enumerate(zip(faces, panels)):
            chip = (
                aligned_chip(image.pixels, self.chip_size, self.detector.framing, self.aligner.framing)
                if self.aligned_input
                else self.aligner.align(image.pixels, face)
            )
            chip = np.ascontiguousarray(chip, dtype=np.uint8)
            quality = measure(face, chip, image.scale)
            original = face.scaled(image.scale)
            landmarks = np.full(10, np.nan, np.float32) if original.landmarks is None else original.landmarks.reshape(-1)
            rows.append(
                {
                    **base, "kind": FACE, "stage": "", "reason": "", "face_index": index, "panel_index": panel,
                    **dict(zip(("x1", "y1", "x2", "y2"), map(float, original.box))),
                    "det_score": float(original.score), "landmarks": landmarks.astype(np.float32),
                    "face_px": quality.face_px, "sharpness": quality.sharpness, "yaw": quality.yaw,
                    "chip": chip, "chip_jpeg": _jpeg(chip),
                }
            )  # fmt: skip
        timings["align_s"] += time.perf_counter() - start
        return rows

    def status_row(self, base: dict, kind: str, stage: str, reason: str) -> dict:
        return {**base, "kind": kind, "stage": stage, "reason": reason, **empty_face_fields()}


def _jpeg(rgb: np.ndarray) -> bytes:
    ok, jpeg = cv2.imencode(".jpg", rgb[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    return jpeg.tobytes() if ok else b""


def _box_columns(box, scale: float) -> dict:
    return dict(zip(("x1", "y1", "x2", "y2"), (float(v) * scale for v in box)))


class ShardStage:
    """Extracts whole shards and writes them (see the module docstring).

    Input batch: ``shard`` (shard keys). Output: one row per shard with its counts and the
    node that wrote it.
    """

    def __init__(self, config: dict, embedder_spec: dict, models: dict[str, str], run_root: str):
        self.config = Config.from_dict(config)
        self.decode = Decoder(self.config.extract)
        self.detect = DetectAlignStage(self.config, embedder_spec)
        self.embedder = self.detect.aligner  # one model per actor
        self.models = models
        self.layout = RunLayout.at(run_root)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        import ray

        node = ray.get_runtime_context().get_node_id()
        markers = [self.extract_shard(str(key), node) for key in batch["shard"]]
        return {name: np.array([m[name] for m in markers]) for name in ("shard", "node", "images", "faces", "no_face", "errors")}

    def extract_shard(self, key: str, node: str) -> dict:
        """Extract and write shard ``key``; its marker."""
        inputs = read_list_file(self.layout, key)
        paths, ids = inputs["image_path"].to_pylist(), inputs["image_id"].to_pylist()
        timings: dict[str, float] = defaultdict(float)
        rows: list[dict] = []
        step = self.config.extract.detect_batch_size
        for first in range(0, len(paths), step):
            rows += self.detect_images(paths[first : first + step], ids[first : first + step], timings)
        self.embed_faces([row for row in rows if row["kind"] == FACE], timings)
        return write_shard(self.layout, key, rows, self.models, self.config.extract.save_chips, timings, node)

    def detect_images(self, paths: list[str], ids: list[str], timings: dict[str, float]) -> list[dict]:
        """Rows of a batch of images; ``timings`` gets the seconds of each stage, counted per image."""
        rows, bases, images = [], [], []
        for path, image_id in zip(paths, ids):
            start = time.perf_counter()
            image, stage, reason = self.decode(path)
            timings["decode_s"] += time.perf_counter() - start
            base = {"image_id": image_id, "image_path": path, "width": image.width if image else 0,
                    "height": image.height if image else 0}  # fmt: skip
            if image is None:
                rows.append(self.detect.status_row(base, ERROR, stage, reason))
            else:
                bases.append(base)
                images.append(image)
        return rows + (self.detect.rows(bases, images, timings) if images else [])

    def embed_faces(self, faces: list[dict], timings: dict[str, float]) -> None:
        """Replace each face row's ``chip`` by its ``embedding``, a batch of chips at a time."""
        start = time.perf_counter()
        step = self.config.ray.gpu_embed_batch_size if self.embedder.uses_gpu else self.config.extract.embed_batch_size
        for first in range(0, len(faces), step):
            batch = faces[first : first + step]
            for row, embedding in zip(batch, self.embedder.embed(np.stack([row.pop("chip") for row in batch]))):
                row["embedding"] = embedding
        timings["embed_s"] += time.perf_counter() - start


#: The stage of this worker process, kept between the Ray tasks it runs: (its arguments, stage).
_PROCESS_STAGE: list = []


def extract_shards(batch: dict[str, np.ndarray], *stage_args) -> dict[str, np.ndarray]:
    """:class:`ShardStage` as a Ray task: built (models loaded) once per worker process."""
    if not _PROCESS_STAGE or _PROCESS_STAGE[0] != stage_args:
        _PROCESS_STAGE[:] = [stage_args, ShardStage(*stage_args)]
    return _PROCESS_STAGE[1](batch)
