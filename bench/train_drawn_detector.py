"""Train the drawn-face detector raypipe ships (``raypipe/detect/weights/drawn_faces.onnx``).

A small CenterNet-style network (grey input, stride-8 heat map of face centres plus box size
and offset), trained from scratch (or fine-tuned from weights it saved or exported, ``--init``)
on synthetic grey page patches
(:mod:`raypipe.testing.drawn_training_pages`) with these faces pasted in: the 6,087 unlabelled
drawn faces of ``../shared/data/anime_unlabelled`` and the fan-art characters of
:data:`FIT_FANART` (the first half of ``anime_fanart`` in name order); with ``--print-patches``
also patches of manga-printed pages of those characters (:mod:`raypipe.testing.manga_print_pages`). Never read: the other
fan-art characters, ``anime/``, ``anime_pages/`` and the manga pages (all kept for reporting).
The exported graph holds the grey conversion and the peak decoding: RGB in, the best
:data:`TOP_K` boxes and scores out, so :class:`raypipe.detect.onnx_detector.OnnxDetector` runs it.

    nice -n 10 python bench/train_drawn_detector.py --seconds 600 --out /tmp/drawn_faces.onnx
    nice -n 10 python bench/train_drawn_detector.py --seconds 300 --init raypipe/detect/weights/drawn_faces.onnx \
        --lr 5e-4 --out /tmp/tuned.onnx
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

import cv2
import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from raypipe.testing.comic_pages import load_characters, split_characters
from raypipe.testing.drawn_training_pages import SIMPLE_FACES, training_patch
from raypipe.testing.manga_print_pages import manga_print_page

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
WEIGHTS = Path(__file__).resolve().parents[1] / "raypipe" / "detect" / "weights" / "drawn_faces.onnx"
STRIDE, TOP_K = 8, 100
#: Background pictures with no human face, shipped inside scikit-learn and scikit-image.
SCENES = ("china.jpg", "flower.jpg", "brick.png", "coffee.png", "coins.png", "grass.png", "gravel.png",
          "horse.png", "motorcycle_left.png", "page.png", "rocket.jpg", "text.png", "clock_motion.png")  # fmt: skip
log = logging.getLogger("train_drawn_detector")


def fit_fanart() -> dict[str, list[Path]]:
    """The fan-art characters the detector may see; the others stay for the report."""
    return split_characters(load_characters(SHARED / "anime_fanart"))[0]


def block(c_in: int, c_out: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True))


class DrawnFaceNet(nn.Module):
    """Grey image in [0, 1] -> heat-map logits (1) and box (log w, log h, dx, dy) at stride 8."""

    def __init__(self, width: int = 16):
        super().__init__()
        w = width
        self.s8 = nn.Sequential(block(1, w, 2), block(w, 2 * w, 2), block(2 * w, 3 * w, 2), block(3 * w, 3 * w))
        self.s16 = nn.Sequential(block(3 * w, 4 * w, 2), block(4 * w, 4 * w))
        self.s32 = nn.Sequential(block(4 * w, 6 * w, 2), block(6 * w, 6 * w), block(6 * w, 6 * w))
        self.lat16, self.lat32 = nn.Conv2d(4 * w, 3 * w, 1), nn.Conv2d(6 * w, 3 * w, 1)
        self.head = block(3 * w, 3 * w)
        self.heat, self.box = nn.Conv2d(3 * w, 1, 1), nn.Conv2d(3 * w, 4, 1)
        nn.init.constant_(self.heat.bias, -4.0)

    def forward(self, grey: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        c8 = self.s8((grey - 0.6) / 0.3)
        c16 = self.s16(c8)
        c32 = self.s32(c16)
        top = self.lat32(c32)
        mid = self.lat16(c16) + F.interpolate(top, size=c16.shape[2:], mode="nearest")
        feat = self.head(c8 + F.interpolate(mid, size=c8.shape[2:], mode="nearest"))
        return self.heat(feat), self.box(feat)


class Exported(nn.Module):
    """RGB (N=1, 3, H, W) in [0, 1] -> ``boxes`` (TOP_K, 4) xyxy input pixels, ``scores`` (TOP_K,)."""

    def __init__(self, net: DrawnFaceNet):
        super().__init__()
        self.net = net

    def forward(self, rgb: torch.Tensor):
        grey = (rgb * torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)).sum(1, keepdim=True)
        heat, box = self.net(grey)
        heat = torch.sigmoid(heat)
        peaks = heat * (F.max_pool2d(heat, 3, 1, 1) == heat).float()
        width = heat.shape[3]
        scores, index = peaks.flatten().topk(TOP_K)
        ys, xs = (index // width).float(), (index % width).float()
        flat = box.flatten(2)[0][:, index]
        cx, cy = (xs + 0.5 + flat[2]) * STRIDE, (ys + 0.5 + flat[3]) * STRIDE
        half_w, half_h = torch.exp(flat[0]) * STRIDE / 2, torch.exp(flat[1]) * STRIDE / 2
        return torch.stack([cx - half_w, cy - half_h, cx + half_w, cy + half_h], 1), scores


def targets(boxes: list[np.ndarray], size: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Gaussian centre heat maps (N, 1, S, S), box targets (N, 4, S, S) and their mask."""
    cells = size // STRIDE
    heat = np.zeros((len(boxes), 1, cells, cells), np.float32)
    reg = np.zeros((len(boxes), 4, cells, cells), np.float32)
    mask = np.zeros((len(boxes), 1, cells, cells), np.float32)
    yy, xx = np.mgrid[0:cells, 0:cells] + 0.5
    for n, page_boxes in enumerate(boxes):
        for x1, y1, x2, y2 in page_boxes:
            cx, cy, w, h = (x1 + x2) / 2 / STRIDE, (y1 + y2) / 2 / STRIDE, (x2 - x1) / STRIDE, (y2 - y1) / STRIDE
            sigma = max(0.6, 0.15 * min(w, h))
            heat[n, 0] = np.maximum(heat[n, 0], np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * sigma**2)))
            i, j = min(int(cy), cells - 1), min(int(cx), cells - 1)
            heat[n, 0, i, j] = 1.0
            reg[n, :, i, j] = (np.log(w), np.log(h), cx - j - 0.5, cy - i - 0.5)
            mask[n, 0, i, j] = 1.0
    return torch.from_numpy(heat), torch.from_numpy(reg), torch.from_numpy(mask)


def loss(net: DrawnFaceNet, images: torch.Tensor, heat: torch.Tensor, reg: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """CenterNet's focal loss on the heat map plus L1 on the box at face centres."""
    logits, box = net(images)
    p = torch.sigmoid(logits).clamp(1e-4, 1 - 1e-4)
    pos = (heat == 1).float()
    focal = -(pos * (1 - p) ** 2 * torch.log(p) + (1 - pos) * (1 - heat) ** 4 * p**2 * torch.log(1 - p)).sum()
    n = pos.sum().clamp(min=1)
    return focal / n + (F.l1_loss(box, reg, reduction="none") * mask).sum() / n


def load_faces() -> list[np.ndarray]:
    """RGB training crops: the unlabelled faces and the fit fan-art characters (at 160 px)."""
    paths = sorted((SHARED / "anime_unlabelled").iterdir())
    faces = [cv2.imread(str(p), cv2.IMREAD_COLOR) for p in paths]
    for crops in fit_fanart().values():
        faces += [cv2.resize(cv2.imread(str(p), cv2.IMREAD_COLOR), (160, 160), interpolation=cv2.INTER_AREA) for p in crops]
    return [f[:, :, ::-1].copy() for f in faces if f is not None]


def load_scenes() -> list[np.ndarray]:
    """Grey pictures without a human face that ship with scikit-learn and scikit-image
    (:data:`SCENES`), as backgrounds: buildings, plants, objects, textures, printed text."""
    import skimage
    import sklearn.datasets

    folders = [Path(sklearn.datasets.__file__).parent / "images", Path(skimage.__file__).parent / "data"]
    paths = [folder / name for folder in folders for name in SCENES if (folder / name).is_file()]
    return [cv2.imread(str(path), cv2.IMREAD_GRAYSCALE) for path in paths]


def patch_bank(n: int, size: int, seed: int, simple_faces: float = SIMPLE_FACES) -> tuple[np.ndarray, list[np.ndarray]]:
    """``n`` training patches and their face boxes, made once and reused every epoch;
    ``simple_faces``: share of the faces drawn in a few strokes."""
    rng = np.random.default_rng(seed)
    faces, scenes = load_faces(), load_scenes()
    log.info("%d training face crops, %d scenes; making %d patches", len(faces), len(scenes), n)
    patches = [training_patch(size, rng, faces, int(size * 0.85), scenes, simple_faces) for _ in range(n)]
    return np.stack([p[0] for p in patches]), [p[1] for p in patches]


def manga_patches(title: str, n: int, size: int, seed: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """``n`` random patches of the pages of ``title`` boxed in ``bench/data/manga_faces.json``,
    at the scale the detector sees a page (long side 640), with the boxed faces whose centre
    falls inside; for the leave-one-title-out experiment only (never the shipped model)."""
    boxed = json.loads((Path(__file__).parent / "data" / "manga_faces.json").read_text())["pages"]
    pages = []
    for name in sorted(page for page in boxed if page.startswith(title)):
        grey = cv2.imread(str(SHARED / "manga_pages" / "pages" / f"{name}.jpg"), cv2.IMREAD_GRAYSCALE)
        pages.append((grey, np.float32(boxed[name]), 640 / max(grey.shape)))
    return page_patches(pages, n, size, np.random.default_rng(seed))


def print_patches(n: int, size: int, seed: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """``n`` random patches of manga-printed pages of the fit characters
    (:mod:`raypipe.testing.manga_print_pages`, other draws than the choosing set's), each page
    seen as the detector's passes see it (scale 0.55 or 0.275), with the pasted faces."""
    rng = np.random.default_rng(seed)
    crops = {name: [cv2.imread(str(p), cv2.IMREAD_COLOR)[:, :, ::-1].copy() for p in paths] for name, paths in fit_fanart().items()}
    pages = []
    for _ in range(max(1, n // 8)):
        page = manga_print_page(crops, rng)
        pages.append((cv2.cvtColor(page.image, cv2.COLOR_RGB2GRAY), np.float32(page.faces).reshape(-1, 4), float(rng.choice([0.55, 0.275]))))
    return page_patches(pages, n, size, rng)


def page_patches(pages: list, n: int, size: int, rng: np.random.Generator) -> tuple[np.ndarray, list[np.ndarray]]:
    """``n`` random ``size`` patches of ``pages`` (grey page, face boxes, the scale it is seen
    at), with the faces whose centre falls inside (page pixels times the scale)."""
    scaled = [(cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA), faces * scale) for grey, faces, scale in pages]
    images, boxes = [], []
    for _ in range(n):
        grey, faces = scaled[int(rng.integers(len(scaled)))]
        y, x = rng.integers(0, grey.shape[0] - size), rng.integers(0, grey.shape[1] - size)
        centres = (faces[:, :2] + faces[:, 2:]) / 2
        inside = (centres[:, 0] >= x) & (centres[:, 0] < x + size) & (centres[:, 1] >= y) & (centres[:, 1] < y + size)
        images.append(grey[y : y + size, x : x + size])
        boxes.append(faces[inside] - np.float32([x, y, x, y]))
    return np.stack(images), boxes


def flipped(image: np.ndarray, boxes: np.ndarray, flip: bool) -> tuple[np.ndarray, np.ndarray]:
    if not flip:
        return image, boxes
    width = image.shape[1]
    return image[:, ::-1], np.stack([width - boxes[:, 2], boxes[:, 1], width - boxes[:, 0], boxes[:, 3]], 1)


def weights_from_onnx(path: Path) -> dict[str, torch.Tensor]:
    """A :class:`DrawnFaceNet` state dict from a graph :func:`export` wrote, whose batch norms
    the export folded into the convolutions: each norm comes back as the identity plus the
    folded bias (so it must stay frozen, :func:`freeze_norms`)."""
    import onnx
    from onnx import numpy_helper

    tensors = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in onnx.load(str(path)).graph.initializer}
    folded = sorted((n for n in tensors if n.startswith("onnx::Conv_")), key=lambda n: int(n.rsplit("_", 1)[1]))
    state = DrawnFaceNet().state_dict()
    convs = [k[: -len(".0.weight")] for k in state if k.endswith(".0.weight") and state[k].dim() == 4]
    assert len(folded) == 2 * len(convs), "not a graph of this network"
    for block_name, weight, bias in zip(convs, folded[::2], folded[1::2]):
        state[f"{block_name}.0.weight"] = tensors[weight]
        norm = f"{block_name}.1"
        state[f"{norm}.weight"], state[f"{norm}.bias"] = torch.ones_like(tensors[bias]), tensors[bias]
        state[f"{norm}.running_mean"], state[f"{norm}.running_var"] = torch.zeros_like(tensors[bias]), torch.full_like(tensors[bias], 1 - 1e-5)
    for name in ("lat16", "lat32", "heat", "box"):
        state[f"{name}.weight"], state[f"{name}.bias"] = tensors[f"net.{name}.weight"], tensors[f"net.{name}.bias"]
    return state


def freeze_norms(net: DrawnFaceNet) -> None:
    """Batch norms keep their running statistics (their scale and shift still learn)."""
    for module in net.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.eval()


def train(images: np.ndarray, boxes: list[np.ndarray], seconds: float, batch: int, seed: int, init: str | None, lr: float = 3e-3) -> DrawnFaceNet:
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = DrawnFaceNet()
    if init and init.endswith(".onnx"):
        net.load_state_dict(weights_from_onnx(Path(init)))
        freeze_norms(net)
    elif init:
        net.load_state_dict({k: torch.from_numpy(v) for k, v in np.load(init).items()})
    optimiser = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
    start, step = time.monotonic(), 0
    while (elapsed := time.monotonic() - start) < seconds:
        for group in optimiser.param_groups:  # cosine decay over the time budget
            group["lr"] = lr * 0.5 * (1 + np.cos(np.pi * elapsed / seconds))
        pairs = [flipped(images[i], boxes[i], rng.random() < 0.5) for i in rng.integers(0, len(images), batch)]
        tensor = torch.from_numpy(np.stack([p[0] for p in pairs])[:, None].astype(np.float32) / 255)
        value = loss(net, tensor, *targets([p[1] for p in pairs], images.shape[1]))
        optimiser.zero_grad()
        value.backward()
        optimiser.step()
        step += 1
        if step % 50 == 0:
            log.info("step %d, %.0f s, loss %.3f", step, elapsed, value.item())
    return net.eval()


def export(net: DrawnFaceNet, path: Path) -> None:
    """The network with grey conversion and peak decoding, as an ONNX graph of any input size."""
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(
        Exported(net).eval(), torch.zeros(1, 3, 640, 640), str(path), input_names=["image"],
        output_names=["boxes", "scores"], dynamic_axes={"image": {2: "height", 3: "width"}},
        opset_version=17, dynamo=False,
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--size", type=int, default=192, help="side of a training patch")
    parser.add_argument("--patches", type=int, default=4000, help="patches made once, reused every epoch")
    parser.add_argument("--simple-faces", type=float, default=SIMPLE_FACES, help="share of faces drawn in a few strokes")
    parser.add_argument("--bank", type=Path, help="keep the patches here (.npz) and reuse them on the next run")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--lr", type=float, default=3e-3, help="peak learning rate (cosine decay)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--init", help="start from these weights (.npz written by --save, or an .onnx written by this script)")
    parser.add_argument("--save", help="also keep the trained weights here (.npz)")
    parser.add_argument("--out", type=Path, default=WEIGHTS)
    parser.add_argument("--print-patches", type=int, default=0, help="also this many patches of manga-printed pages of the fit characters")
    parser.add_argument("--manga-title", help="experiment: also train on the boxed pages of this title (not shipped)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    torch.set_num_threads(1)
    if args.bank and args.bank.is_file():
        stored = np.load(args.bank)
        images, boxes = stored["images"], [stored[f"boxes_{i}"] for i in range(len(stored["images"]))]
    else:
        images, boxes = patch_bank(args.patches, args.size, args.seed, args.simple_faces)
        if args.bank:
            np.savez(args.bank, images=images, **{f"boxes_{i}": b for i, b in enumerate(boxes)})
    if args.print_patches:
        printed, printed_boxes = print_patches(args.print_patches, args.size, args.seed + 1000)
        images, boxes = np.concatenate([images, printed]), boxes + printed_boxes
    if args.manga_title:
        if args.out == WEIGHTS:
            parser.error("--manga-title models are experiments: give --out outside the package")
        real, real_boxes = manga_patches(args.manga_title, len(images), args.size, args.seed)
        images, boxes = np.concatenate([images, real]), boxes + real_boxes
    net = train(images, boxes, args.seconds, args.batch, args.seed, args.init, args.lr)
    if args.save:
        np.savez(args.save, **{k: v.numpy() for k, v in net.state_dict().items()})
    export(net, args.out)
    log.info("wrote %s", args.out)


if __name__ == "__main__":
    main()
