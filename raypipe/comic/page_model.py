"""A learned page model: a small fully-convolutional net on the downscaled grey page.

It labels each pixel of the page (resized to ``INPUT_SHAPE``) as paper, panel interior or panel
edge (a band along each panel's outline, also where two panels touch or one overlaps another),
and as lettering or not. Panels are the connected pieces of interior, cut along rows or columns
that are mostly not interior, grown back by the band, pieces of one panel joined again
(:mod:`raypipe.comic.slivers`; the default); :func:`find_panels` can
also combine them with the rules' panels ("hybrid"). Trained by ``bench/train_page_model.py``
on synthetic pages only (no real page: the weights carry their training manifest); weights
ship as plain arrays (``weights/page_model.npz``). Figures: docs/manga-pages.md.
"""

from __future__ import annotations

import json
from functools import lru_cache, partial
from pathlib import Path

import cv2
import numpy as np
import torch
from torch import nn

from raypipe.comic.panels import Panel, extract_panels
from raypipe.comic.reading import Box, reading_order
from raypipe.comic.slivers import SHIPPED, join_slivers

INPUT_SHAPE = (256, 180)  # height, width: a manga page (1.41) at about a fifth of its size
EDGE_BAND = 2  # pixels of the model's input each side of a panel outline labelled as edge
PAPER, INTERIOR, EDGE = 0, 1, 2
PANEL_METHODS = ("rules", "learned", "hybrid")
WEIGHTS = Path(__file__).with_name("weights") / "page_model.npz"
MANIFEST = "training_manifest"  # the array of the weights file naming what they were trained on


def _block(cin: int, cout: int, dilation: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=dilation, dilation=dilation, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class PageNet(nn.Module):
    """A four-level U-Net; outputs 3 panel-class logits and 1 lettering logit per pixel."""

    def __init__(self, width: int = 8) -> None:
        super().__init__()
        w1, w2, w3, w4 = width, 2 * width, 4 * width, 6 * width
        self.enc1 = _block(1, w1)
        self.enc2 = nn.Sequential(_block(w1, w2), _block(w2, w2))
        self.enc3 = nn.Sequential(_block(w2, w3), _block(w3, w3))
        self.enc4 = nn.Sequential(_block(w3, w4), _block(w4, w4, 2), _block(w4, w4, 4))
        self.dec3 = _block(w4 + w3, w3)
        self.dec2 = _block(w3 + w2, w2)
        self.dec1 = _block(w2 + w1, w1)
        self.head = nn.Conv2d(w1, 4, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s1 = self.enc1(x)
        s2 = self.enc2(nn.functional.max_pool2d(s1, 2))
        s3 = self.enc3(nn.functional.max_pool2d(s2, 2))
        s4 = self.enc4(nn.functional.max_pool2d(s3, 2))
        d3 = self.dec3(torch.cat([_up(s4, s3), s3], 1))
        d2 = self.dec2(torch.cat([_up(d3, s2), s2], 1))
        d1 = self.dec1(torch.cat([_up(d2, s1), s1], 1))
        return self.head(d1)


def _up(x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return nn.functional.interpolate(x, size=like.shape[2:], mode="nearest")


def save_weights(net: PageNet, path: Path, manifest: dict | None = None) -> None:
    """The net's parameters and batch-norm statistics as plain arrays (no pickle), with the
    training ``manifest`` (what it was trained on) as a JSON string array."""
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {k: v.detach().cpu().numpy() for k, v in net.state_dict().items()}
    np.savez_compressed(path, **arrays, **{MANIFEST: np.array(json.dumps(manifest or {}, sort_keys=True))})


def training_manifest(path: Path = WEIGHTS) -> dict:
    """What the weights at ``path`` were trained on ({} when they carry no manifest)."""
    with np.load(path, allow_pickle=False) as arrays:
        return json.loads(str(arrays[MANIFEST])) if MANIFEST in arrays.files else {}


def load_net(path: Path = WEIGHTS) -> PageNet:
    """A :class:`PageNet` in evaluation mode with the weights at ``path``."""
    with np.load(path, allow_pickle=False) as arrays:
        state = {k: torch.from_numpy(arrays[k]) for k in arrays.files if k != MANIFEST}
    net = PageNet()
    net.load_state_dict(state)
    return net.eval()


@lru_cache(maxsize=4)
def _shipped(path: Path) -> PageNet:
    return load_net(path)


def page_input(rgb_or_grey: np.ndarray) -> np.ndarray:
    """The page as the model sees it: grey, resized to ``INPUT_SHAPE``, float in [0, 1]."""
    grey = rgb_or_grey if rgb_or_grey.ndim == 2 else cv2.cvtColor(rgb_or_grey, cv2.COLOR_RGB2GRAY)
    small = cv2.resize(grey, INPUT_SHAPE[::-1], interpolation=cv2.INTER_AREA)
    return small.astype(np.float32) / 255.0


def predict_maps(rgb: np.ndarray, net: PageNet | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(panel class probabilities 3 x H x W, lettering probability H x W) at ``INPUT_SHAPE``."""
    net = net or _shipped(WEIGHTS)
    with torch.inference_mode():
        logits = net(torch.from_numpy(page_input(rgb))[None, None])[0]
    return logits[:3].softmax(0).numpy(), logits[3].sigmoid().numpy()


def panel_boxes(
    classes: np.ndarray, page_shape: tuple[int, int], min_area: float = 0.03, cut: float = 0.5
) -> list[Box]:
    """Panels (page pixels) from the class probabilities: each piece of interior, cut along any
    row or column that is mostly not interior (``cut``: a panel edge crossed by art), grown by
    the edge band."""
    interior = classes.argmax(0) == INTERIOR
    count, pieces, stats, _ = cv2.connectedComponentsWithStats(interior.astype(np.uint8), connectivity=4)
    boxes = []
    for label in range(1, count):
        x, y, w, h, _ = stats[label]
        boxes.extend(_cut_box(pieces == label, (x, y, x + w, y + h), cut))
    return _scaled_boxes(boxes, interior.shape, page_shape, EDGE_BAND, min_area)


def learned_panels(rgb: np.ndarray, classes: np.ndarray) -> list[Box]:
    """The default's panels: :func:`panel_boxes`, pieces of one panel joined (``SHIPPED``)."""
    grey = rgb if rgb.ndim == 2 else cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    return join_slivers(panel_boxes(classes, rgb.shape[:2]), grey, *SHIPPED)


def _cut_box(inside: np.ndarray, box: Box, cut: float, smallest: float = 0.08) -> list[Box]:
    """``box`` split recursively at its most open row or column (at most ``cut`` of it inside)
    that leaves both sides at least ``smallest`` of the page; each side shrunk to ``inside``."""
    x1, y1, x2, y2 = box
    region = inside[y1:y2, x1:x2]
    for axis, (length, page_length) in enumerate(((x2 - x1, inside.shape[1]), (y2 - y1, inside.shape[0]))):
        filled = region.mean(axis=axis)
        margin = max(1, round(smallest * page_length))
        if length <= 2 * margin:
            continue
        at = margin + int(filled[margin:-margin].argmin())
        if filled[at] <= 1 - cut:
            halves = ((x1, y1, x1 + at, y2), (x1 + at + 1, y1, x2, y2)) if axis == 0 else (
                (x1, y1, x2, y1 + at), (x1, y1 + at + 1, x2, y2))
            return [piece for half in halves if (shrunk := _shrunk(inside, half))
                    for piece in _cut_box(inside, shrunk, cut, smallest)]
    return [box]


def _shrunk(inside: np.ndarray, box: Box) -> Box | None:
    x1, y1, x2, y2 = box
    ys, xs = np.nonzero(inside[y1:y2, x1:x2])
    return None if not len(ys) else (x1 + xs.min(), y1 + ys.min(), x1 + xs.max() + 1, y1 + ys.max() + 1)


def learned_lettering(
    text: np.ndarray, page_shape: tuple[int, int], min_area: float = 2e-4
) -> list[Box]:
    """Lettering boxes (page pixels): the connected pieces of the lettering probability > 0.5."""
    count, _, stats, _ = cv2.connectedComponentsWithStats((text > 0.5).astype(np.uint8), connectivity=4)
    boxes = [(x, y, x + w, y + h) for x, y, w, h, _ in stats[1:count]]
    return _scaled_boxes(boxes, text.shape, page_shape, 0, min_area)


def _scaled_boxes(
    boxes: list[Box], shape: tuple[int, int], page_shape: tuple[int, int], grow: int, min_area: float
) -> list[Box]:
    """``boxes`` of a map of ``shape``, grown by ``grow``, in page pixels; the small dropped."""
    height, width = page_shape
    sy, sx = height / shape[0], width / shape[1]
    scaled = []
    for x1, y1, x2, y2 in boxes:
        box = (max(0, round((x1 - grow) * sx)), max(0, round((y1 - grow) * sy)),
               min(width, round((x2 + grow) * sx)), min(height, round((y2 + grow) * sy)))
        if (box[2] - box[0]) * (box[3] - box[1]) >= min_area * height * width:
            scaled.append(box)
    return scaled


def class_targets(labels: np.ndarray) -> np.ndarray:
    """Per-pixel class (paper / interior / edge) of a panel label map at the model's size:
    edge where another label (or the page's outside) lies within ``EDGE_BAND``."""
    padded = np.pad(labels, EDGE_BAND, constant_values=0).astype(np.float32)
    size = 2 * EDGE_BAND + 1
    kernel = np.ones((size, size), np.uint8)
    high = cv2.dilate(padded, kernel)[EDGE_BAND:-EDGE_BAND, EDGE_BAND:-EDGE_BAND]
    low = cv2.erode(padded, kernel)[EDGE_BAND:-EDGE_BAND, EDGE_BAND:-EDGE_BAND]
    classes = np.where(labels > 0, INTERIOR, PAPER).astype(np.int64)
    classes[(labels > 0) & (high != low)] = EDGE
    return classes


def find_panels(
    rgb: np.ndarray,
    right_to_left: bool = False,
    balloons: list[Box] = (),
    method: str = "learned",
    net: PageNet | None = None,
) -> list[Panel]:
    """Panels of an RGB page in reading order by ``method``: "learned" (the page model, the
    default: chosen on synthetic validation pages, docs/manga-pages.md), "rules"
    (:func:`~raypipe.comic.panels.extract_panels`) or "hybrid" (the rules' panels cut and
    completed by the model, :func:`refined_panels`). A page without any is one panel."""
    if method not in PANEL_METHODS:
        raise ValueError(f"comic panels method must be one of {PANEL_METHODS}, not {method!r}")
    rules = partial(extract_panels, rgb, right_to_left, text_boxes=balloons)
    if method == "rules":
        return rules()
    classes = predict_maps(rgb, net)[0]
    if method == "learned":
        boxes = learned_panels(rgb, classes)
    else:
        boxes = refined_panels(classes, [p.box for p in rules()], rgb.shape[:2])
    if not boxes:
        return rules()
    return [Panel(i, box) for i, box in enumerate(reading_order(boxes, right_to_left))]


def refined_panels(
    classes: np.ndarray, rules: list[Box], page_shape: tuple[int, int], cut: float = 0.6,
    min_area: float = 0.03, missed: bool = True,
) -> list[Box]:
    """The rules' panels, each cut where the model sees panel edges across it (panels the rules
    merged), plus (``missed``) the model's panels lying mostly outside every rule panel (panels
    they missed)."""
    interior = classes.argmax(0) == INTERIOR
    sy, sx = interior.shape[0] / page_shape[0], interior.shape[1] / page_shape[1]
    refined = []
    for x1, y1, x2, y2 in rules:
        small = (int(x1 * sx), int(y1 * sy), int(np.ceil(x2 * sx)), int(np.ceil(y2 * sy)))
        shrunk = _shrunk(interior, small)
        pieces = _cut_box(interior, shrunk, cut) if shrunk else []
        if len(pieces) > 1:
            refined.extend(_scaled_boxes(pieces, interior.shape, page_shape, EDGE_BAND, min_area))
        else:
            refined.append((x1, y1, x2, y2))
    if not missed:
        return refined
    return refined + [
        box for box in panel_boxes(classes, page_shape, min_area, cut)
        if all(_intersection(box, rule) < 0.5 * _area(box) for rule in rules)
    ]


def _intersection(a: Box, b: Box) -> int:
    return _area((max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])))


def _area(box: Box) -> int:
    return max(0, box[2] - box[0]) * max(0, box[3] - box[1])
