"""Any ONNX face detector whose outputs are already boxes and scores (DSFD, YOLO-face exports).

The model is described by a small output spec instead of code: its input size and
normalisation, which outputs hold the boxes, scores and (optionally) five landmarks, and how
the boxes are written. Anchor decoding must be inside the exported graph; what is left here is
resizing, thresholding, non-maximum suppression and mapping back to image pixels.

Example config::

    detector:
      name: onnx
      model_path: /models/yolov8n-face.onnx
      input_size: [640, 640]
      mean: [0, 0, 0]
      std: [255, 255, 255]
      boxes_output: boxes          # (1, N, 4) or (N, 4)
      scores_output: scores        # (1, N), (N,) or (N, 1)
      landmarks_output: landmarks  # (1, N, 10) or (N, 5, 2), ArcFace order; optional
      box_format: cxcywh           # xyxy | xywh | cxcywh
      normalized: false            # coordinates in [0, 1] of the input instead of pixels
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from raypipe.detect.base import Detector, Face
from raypipe.detect.boxes import clip_boxes, nms
from raypipe.onnx import onnx_providers
from raypipe.registry import ComponentError

BOX_FORMATS = ("xyxy", "xywh", "cxcywh")


class OnnxDetector(Detector):
    """A face detector exported to ONNX, run through onnxruntime, described by its output spec.

    Parameters
    ----------
    model_path : the ``.onnx`` file; its first input takes one NCHW float32 image.
    input_size : ``(width, height)`` the image is resized to. ``None`` reads it from the model
        (which then must have a fixed input shape).
    letterbox : keep the aspect ratio and pad right and bottom with zeros (as YOLO exports
        expect); otherwise stretch to ``input_size``.
    mean, std : per channel, in the model's channel order: ``(pixel - mean) / std``.
    bgr : feed channels in BGR order (models trained on OpenCV-read images).
    boxes_output, scores_output, landmarks_output : output names (landmarks optional).
    box_format : ``xyxy``, ``xywh`` (top-left corner and size) or ``cxcywh`` (centre and size).
    normalized : box and landmark coordinates are fractions of the input width and height.
    score_threshold, nms_threshold : faces below the score are dropped; overlapping faces with
        intersection over union above ``nms_threshold`` are merged (``1.0`` turns NMS off, for
        models that already apply it).
    device : ``auto``, ``cpu`` or ``cuda`` (onnxruntime execution provider).
    """

    def __init__(
        self,
        model_path: str,
        boxes_output: str = "boxes",
        scores_output: str = "scores",
        landmarks_output: str | None = None,
        input_size: Sequence[int] | None = None,
        letterbox: bool = True,
        mean: Sequence[float] = (0.0, 0.0, 0.0),
        std: Sequence[float] = (255.0, 255.0, 255.0),
        bgr: bool = False,
        box_format: str = "xyxy",
        normalized: bool = False,
        score_threshold: float = 0.5,
        nms_threshold: float = 0.4,
        device: str = "auto",
    ):
        import onnxruntime as ort

        if box_format not in BOX_FORMATS:
            raise ComponentError(f"box_format {box_format!r}: choose one of {', '.join(BOX_FORMATS)}")
        if not Path(model_path).expanduser().is_file():
            raise ComponentError(f"ONNX detector model not found: {model_path}")
        providers = onnx_providers(device)
        self.uses_gpu = providers[0] == "CUDAExecutionProvider"
        self._session = ort.InferenceSession(str(Path(model_path).expanduser()), providers=providers)
        self._input_name = self._session.get_inputs()[0].name
        self.output_names = [boxes_output, scores_output] + (
            [landmarks_output] if landmarks_output else []
        )
        known = {o.name for o in self._session.get_outputs()}
        unknown = [name for name in self.output_names if name not in known]
        if unknown:
            raise ComponentError(f"{model_path} has no output {unknown}; it has {sorted(known)}")
        self.input_size = tuple(int(v) for v in (input_size or self._model_input_size()))
        self.gives_landmarks = landmarks_output is not None
        self.letterbox = bool(letterbox)
        self.mean = np.asarray(mean, dtype=np.float32).reshape(1, 3, 1, 1)
        self.std = np.asarray(std, dtype=np.float32).reshape(1, 3, 1, 1)
        self.bgr = bool(bgr)
        self.box_format = box_format
        self.normalized = bool(normalized)
        self.score_threshold = float(score_threshold)
        self.nms_threshold = float(nms_threshold)

    def _model_input_size(self) -> tuple[int, int]:
        height, width = self._session.get_inputs()[0].shape[2:4]
        if not (isinstance(width, int) and isinstance(height, int)):
            raise ComponentError("the model's input size is dynamic: set input_size: [width, height]")
        return width, height

    def detect(self, image: np.ndarray) -> list[Face]:
        blob, scale = self._preprocess(image)
        outputs = self._session.run(self.output_names, {self._input_name: blob})
        boxes, scores = self._decode_boxes(outputs[0]), np.asarray(outputs[1], np.float32).reshape(-1)
        if len(scores) != len(boxes):
            raise ValueError(f"model gave {len(boxes)} boxes but {len(scores)} scores")
        landmarks = self._decode_landmarks(outputs[2]) if self.gives_landmarks else None
        keep = np.flatnonzero(scores >= self.score_threshold)
        keep = keep[nms(boxes[keep], scores[keep], self.nms_threshold)]
        height, width = image.shape[:2]
        boxes = clip_boxes(boxes[keep] / np.tile(scale, 2), width, height)
        return [
            Face(
                tuple(float(v) for v in box),
                float(scores[k]),
                None if landmarks is None else (landmarks[k] / scale).astype(np.float32),
            )
            for box, k in zip(boxes, keep)
        ]

    def _preprocess(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """NCHW network input and the ``(x, y)`` factors from image to input pixels."""
        width, height = self.input_size
        scale = np.array([width / image.shape[1], height / image.shape[0]])
        if self.letterbox:
            scale[:] = scale.min()
        new_size = (round(image.shape[1] * scale[0]), round(image.shape[0] * scale[1]))
        canvas = np.zeros((height, width, 3), dtype=np.uint8)
        canvas[: new_size[1], : new_size[0]] = cv2.resize(image, new_size, interpolation=cv2.INTER_AREA)
        if self.bgr:
            canvas = canvas[:, :, ::-1]
        blob = canvas.transpose(2, 0, 1)[None].astype(np.float32)
        return (blob - self.mean) / self.std, scale

    def _decode_boxes(self, raw: np.ndarray) -> np.ndarray:
        """``(N, 4)`` xyxy boxes in network-input pixels."""
        boxes = np.asarray(raw, dtype=np.float64).reshape(-1, 4)
        if self.normalized:
            boxes = boxes * np.tile(self.input_size, 2)
        if self.box_format == "xywh":
            boxes = np.concatenate([boxes[:, :2], boxes[:, :2] + boxes[:, 2:]], axis=1)
        elif self.box_format == "cxcywh":
            half = boxes[:, 2:] / 2
            boxes = np.concatenate([boxes[:, :2] - half, boxes[:, :2] + half], axis=1)
        return boxes

    def _decode_landmarks(self, raw: np.ndarray) -> np.ndarray:
        """``(N, 5, 2)`` landmarks in network-input pixels."""
        points = np.asarray(raw, dtype=np.float64).reshape(-1, 5, 2)
        return points * self.input_size if self.normalized else points
