"""The RFB-320 single-shot face detector (Ultra-Light-Fast-Generic-Face-Detector style), as
shipped in ``fr_detect.onnx`` by ``faceplugin-face-recognition-js`` (MIT), with 68-point landmarks
from ``fr_landmark.onnx``: detect -> landmarks -> ArcFace alignment without dlib.

The exported graph decodes its boxes with priors baked for a 320x240 input. Here the graph is cut
before that decoding and its input made dynamic; the priors are computed for the real input
size, so images are letterboxed into a larger canvas (``input_size``) where small faces of group
photos stay findable. Pre-processing (letterbox), decoding, thresholding and non-maximum
suppression run as batched torch operations on the detector's device.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from raypipe.detect.base import Detector, Face
from raypipe.detect.onnx_runner import OnnxRunner
from raypipe.detect.torch_ops import batched_nms, letterbox, to_device
from raypipe.models import find_model
from raypipe.registry import ComponentError

log = logging.getLogger(__name__)

DETECT_FILE, LANDMARK_FILE = "fr_detect.onnx", "fr_landmark.onnx"
#: Prior (anchor) sizes in input pixels per feature map, and the feature maps' strides.
MIN_SIZES = ((10, 16, 24), (32, 48), (64, 96), (128, 192, 256))
STEPS = (8, 16, 32, 64)
#: Box regression scale of the centres and of the log sizes.
CENTER_VARIANCE, SIZE_VARIANCE = 0.1, 0.2


@lru_cache(maxsize=16)
def rfb_priors(width: int, height: int) -> np.ndarray:
    """``(P, 4)`` priors ``cx, cy, w, h`` as fractions of a ``width`` x ``height`` input, in the
    order of the network's outputs (per feature map: rows, columns, then sizes), clipped to [0, 1]."""
    priors = []
    for step, sizes in zip(STEPS, MIN_SIZES):
        cols, rows = math.ceil(width / step), math.ceil(height / step)
        cy, cx, size = np.meshgrid(
            (np.arange(rows) + 0.5) / rows,
            (np.arange(cols) + 0.5) / cols,
            np.asarray(sizes, np.float64),
            indexing="ij",
        )
        priors.append(np.stack([cx, cy, size / width, size / height], axis=-1).reshape(-1, 4))
    return np.clip(np.concatenate(priors), 0.0, 1.0).astype(np.float32)


def decode_boxes(loc: torch.Tensor, priors: torch.Tensor) -> torch.Tensor:
    """``(..., P, 4)`` xyxy boxes (fractions of the input) from regressions against ``priors``."""
    centres = priors[..., :2] + loc[..., :2] * CENTER_VARIANCE * priors[..., 2:]
    sizes = priors[..., 2:] * torch.exp(loc[..., 2:] * SIZE_VARIANCE)
    return torch.cat([centres - sizes / 2, centres + sizes / 2], dim=-1)


def square(boxes: torch.Tensor) -> torch.Tensor:
    """Boxes made square around their centres with the mean of their sides: RFB boxes are
    taller than wide (forehead to chin), while face annotations and the other detectors' boxes
    are square."""
    centre = (boxes[..., :2] + boxes[..., 2:]) / 2
    half = (boxes[..., 2:] - boxes[..., :2]).mean(dim=-1, keepdim=True) / 2
    return torch.cat([centre - half, centre + half], dim=-1)


def headless_graph(path: str | Path):
    """``fr_detect.onnx`` with any input size and batch, ending at the raw class logits
    ``(N, P, 2)`` and box regressions ``(N, P, 4)`` (before its baked 320x240 decoding)."""
    import onnx

    model = onnx.load(str(path))
    graph = model.graph
    producers = {out: node for node in graph.node for out in node.output}
    if "scores" not in producers or producers["scores"].op_type != "Softmax":
        raise ComponentError(f"{path} is not an RFB detector export (no Softmax 'scores' output)")
    outputs = (
        producers["scores"].input[0],
        next(n.input[0] for n in graph.node if n.op_type == "Slice"),
    )
    needed, pending = set(), list(outputs)
    while pending:  # the nodes the two outputs depend on
        node = producers.get(pending.pop())
        if node is not None and id(node) not in needed:
            needed.add(id(node))
            pending.extend(node.input)
    nodes = [node for node in graph.node if id(node) in needed]
    used = {name for node in nodes for name in node.input}
    image = onnx.helper.make_tensor_value_info(
        graph.input[0].name, onnx.TensorProto.FLOAT, ["batch", 3, "height", "width"]
    )
    heads = [onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, ["batch", "priors", width])
             for name, width in zip(outputs, (2, 4))]  # fmt: skip
    cut = onnx.helper.make_graph(
        nodes,
        "rfb_headless",
        [image],
        heads,
        [init for init in graph.initializer if init.name in used],
    )
    return onnx.helper.make_model(
        cut, opset_imports=model.opset_import, ir_version=model.ir_version
    )


class RfbDetector(Detector):
    """RFB face detector with five ArcFace landmarks from a 68-point model (no dlib).

    Parameters
    ----------
    model_path, landmark_path : ``fr_detect.onnx`` and ``fr_landmark.onnx``; default: found by
        name under ``model_root`` (``raypipe models fetch`` puts them there).
    input_size : ``(width, height)`` canvas every image is letterboxed into (upscaled when
        smaller: faces down to ~10 canvas pixels are found).
    score_threshold, nms_threshold : face probability needed; overlap (IoU) above which the
        weaker of two boxes is dropped. The defaults 480x360 and 0.97 were chosen on dlib's
        training group photos and the dog photo (``python bench/detectors.py --sweep``): the size
        keeping recall and precision at 1.0 with no dog face over the widest range of
        thresholds, the middle of that range (the model fires on dog faces below 0.95).
    top_k : most candidates per image entering non-maximum suppression.
    device : ``auto`` (CUDA when available), ``cpu`` or ``cuda``. backend : ``onnxruntime``,
        ``torch`` or ``auto`` (onnxruntime on CPU, torch on CUDA without onnxruntime-gpu).
    """

    gives_landmarks = True
    gpu_capable = True

    @classmethod
    def missing_models(cls, params: dict) -> str | None:
        try:
            _model_paths(
                params.get("model_path"), params.get("landmark_path"), params.get("model_root")
            )
        except ComponentError as err:
            return str(err)
        return None

    def __init__(
        self,
        model_path: str | None = None,
        landmark_path: str | None = None,
        model_root: str | None = None,
        input_size: Sequence[int] = (480, 360),
        score_threshold: float = 0.97,
        nms_threshold: float = 0.4,
        top_k: int = 750,
        device: str = "auto",
        backend: str = "auto",
    ):
        from raypipe.detect.landmarks68 import OnnxLandmarker68

        model_path, landmark_path = _model_paths(model_path, landmark_path, model_root)
        self.runner = OnnxRunner(headless_graph(model_path), device, backend)
        self.device, self.uses_gpu = self.runner.device, self.runner.uses_gpu
        self.landmarker = OnnxLandmarker68(
            landmark_path, device=self.device, backend=self.runner.backend
        )
        self.input_size = (int(input_size[0]), int(input_size[1]))
        self.score_threshold = float(score_threshold)
        self.nms_threshold = float(nms_threshold)
        self.top_k = int(top_k)
        self._priors = torch.from_numpy(rfb_priors(*self.input_size)).to(self.device)
        log.debug("RFB detector %s on %s (%s)", model_path, self.device, self.runner.backend)

    def detect(self, image: np.ndarray) -> list[Face]:
        return self.detect_batch([image])[0]

    @torch.inference_mode()
    def detect_batch(self, images: list[np.ndarray]) -> list[list[Face]]:
        """Faces of each RGB uint8 image (any sizes), best first, with five landmarks."""
        if not images:
            return []
        pixels = [to_device(image, self.device) for image in images]
        boxes, scores, keep = self.candidates(pixels)
        counts = keep.sum(dim=1).tolist()
        order = torch.argsort(scores.masked_fill(~keep, float("-inf")), dim=1, descending=True)
        boxes = boxes.gather(1, order[..., None].expand(-1, -1, 4))
        kept = [boxes[i, :n] for i, n in enumerate(counts)]
        landmarks = self.landmarker.five_points(pixels, kept)
        sides = [boxes.new_tensor(image.shape[3:1:-1]).repeat(2) for image in pixels]
        kept = [square(b).clamp(min=0).minimum(side).cpu().numpy() for b, side in zip(kept, sides)]
        scores = scores.gather(1, order).cpu().numpy()
        return [
            [Face(tuple(float(v) for v in box), float(score), points)
             for box, score, points in zip(kept[i], scores[i], landmarks[i])]
            for i in range(len(images))
        ]  # fmt: skip

    def candidates(
        self, pixels: list[torch.Tensor]
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Raw boxes ``(N, k, 4)`` in image pixels, scores ``(N, k)`` and which NMS keeps ``(N, k)``."""
        width, height = self.input_size
        canvas, scales = letterbox(pixels, width, height, fill=127.0)
        logits, loc = self.runner((canvas - 127.0) / 128.0)
        if loc.shape[1] != len(self._priors):
            raise RuntimeError(
                f"the network gave {loc.shape[1]} boxes for {len(self._priors)} priors"
            )
        scores = torch.sigmoid(logits[..., 1] - logits[..., 0])  # softmax's face column
        k = min(self.top_k, scores.shape[1])
        scores, index = scores.topk(k, dim=1)
        valid = scores >= self.score_threshold
        k = max(int(valid.sum(dim=1).max()), 1)  # candidates below the threshold never matter
        scores, index, valid = scores[:, :k], index[:, :k], valid[:, :k]
        boxes = decode_boxes(loc.gather(1, index[..., None].expand(-1, -1, 4)), self._priors[index])
        boxes = boxes * boxes.new_tensor([width, height, width, height]) / scales[:, None, None]
        return boxes, scores, batched_nms(boxes, scores, valid, self.nms_threshold)


def _model_paths(model_path: str | None, landmark_path: str | None, model_root: str | None):
    """The detector's and the landmark model's files: as given, else found under the model root."""
    paths = []
    for given, name in ((model_path, DETECT_FILE), (landmark_path, LANDMARK_FILE)):
        found = given or find_model(name, model_root)
        if found is None:
            raise ComponentError(
                f"{name} not found under the model root {model_root or '(default)'}; "
                "run `raypipe models fetch` or set its path"
            )
        paths.append(str(found))
    return tuple(paths)
