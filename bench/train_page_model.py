"""Train the learned page model (:mod:`raypipe.comic.page_model`) on one CPU core.

Training pages: synthetic pages of irregular layouts (:mod:`raypipe.testing.manga_layouts`) whose
panels show TRAINING art (four in five of the drawn faces of ``anime_fanart/`` and
``anime_unlabelled/``; the fifth is validation art, ``bench/manga_pages.py --validate``), and
colour pages with pasted ``anime_fanart/`` faces. What ships is trained on these only (no real
page: ``manga_pages/`` is evaluation only); the weights carry a manifest of their sources.
``--fit TITLE`` adds the real pages of a title, for the leave-one-title-out experiment only
(never written to the shipped weights). The synthetic benchmark (``bench/manga_pages.py
--synthetic``) uses other art (``anime/``, ``anime_pages/``) and another seed.

    python bench/train_page_model.py --out FOLDS/stage1.npz                       # stage 1
    python bench/train_page_model.py --init FOLDS/stage1.npz --steps 200 --synthetic 300 \
        --colour 75 --seed 1 --out raypipe/comic/weights/page_model.npz           # shipped
    python bench/train_page_model.py --fit tencho_isoro ... --out FOLDS/fit_tencho_isoro.npz
        (leave-one-title-out experiment: the same stages with one real title; not shipped)
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from bench.manga_pages import MANGA, pages
from raypipe.comic.page_model import (
    INPUT_SHAPE,
    WEIGHTS,
    PageNet,
    class_targets,
    load_net,
    save_weights,
    training_manifest,
)
from raypipe.testing.comic_pages import compose_pages, load_characters
from raypipe.testing.manga_layouts import compose_page

DATA = MANGA.parent
ART = ("anime_fanart", "anime_unlabelled")  # drawn crops that may be trained on (SOURCES.md)
STORE_SHAPE = (320, 225)  # pages are kept at 1.25 x the model's input, for zoomed crops


def art_images(
    folders: list[Path], count: int, rng: np.random.Generator, part: str = "training"
) -> list[np.ndarray]:
    """``count`` grey images drawn at random from the image files under ``folders``: from four
    in five of them (``part`` "training") or the fifth ("validation")."""
    files = sorted(p for f in folders for p in f.rglob("*") if p.suffix.lower() in {".jpg", ".png"})
    files = [p for i, p in enumerate(files) if (i % 5 == 0) == (part == "validation")]
    chosen = rng.choice(len(files), size=min(count, len(files)), replace=False)
    return [cv2.imread(str(files[i]), cv2.IMREAD_GRAYSCALE) for i in chosen]


def title_pages(title: str) -> list[tuple[np.ndarray, list, list]]:
    """(grey page, panel boxes, text boxes) of each page of a real title."""
    return [
        (cv2.imread(str(path), cv2.IMREAD_GRAYSCALE), panels, texts)
        for path, panels, texts in pages(MANGA, title)
    ]


def panel_art(real: list[tuple[np.ndarray, list, list]]) -> list[np.ndarray]:
    """The panels of real pages, cut out: manga art for synthetic panels."""
    return [grey[y1:y2, x1:x2] for grey, panels, _ in real for x1, y1, x2, y2 in panels
            if (x2 - x1) > 64 and (y2 - y1) > 64]


def box_labels(shape: tuple[int, int], panels: list) -> np.ndarray:
    """A panel label map from panel boxes, larger panels drawn first (insets stay on top)."""
    labels = np.zeros(shape, np.int32)
    by_area = sorted(panels, key=lambda box: -(box[2] - box[0]) * (box[3] - box[1]))
    for k, (x1, y1, x2, y2) in enumerate(by_area, 1):
        labels[y1:y2, x1:x2] = k
    return labels


def stored(grey: np.ndarray, labels: np.ndarray, texts: list) -> tuple[np.ndarray, ...]:
    """A page at ``STORE_SHAPE``: grey, panel label map, lettering mask."""
    text = np.zeros(grey.shape, np.uint8)
    for x1, y1, x2, y2 in texts:
        text[y1:y2, x1:x2] = 1
    size = STORE_SHAPE[::-1]
    return (
        cv2.resize(grey, size, interpolation=cv2.INTER_AREA),
        cv2.resize(labels, size, interpolation=cv2.INTER_NEAREST),
        cv2.resize(text, size, interpolation=cv2.INTER_NEAREST),
    )


def synthetic_pages(
    art: list[np.ndarray], count: int, colour: int, seed: int, straight_art: float = 0.0,
    fragment_art: float = 0.0,
) -> list[tuple]:
    """``count`` pages of irregular layouts (``straight_art``, ``fragment_art``: shares of panels
    with straight lines across their art, with art that cuts a panel in false pieces), and ``colour`` colour pages of scenery with pasted drawn faces
    (:mod:`raypipe.testing.comic_pages`, training characters): pasted crops are not panels."""
    rng = np.random.default_rng(seed)
    result = []
    for _ in range(count):
        page = compose_page(art, rng, straight_art=straight_art, fragment_art=fragment_art)
        result.append(stored(page.grey, page.labels, page.lettering))
    for page in compose_pages(load_characters(DATA / "anime_fanart"), colour, seed=seed) if colour else []:
        grey = cv2.cvtColor(page.image, cv2.COLOR_RGB2GRAY)
        lettering = [_central(box, 0.7) for box in page.texts]  # balloons: their lettering's area
        result.append(stored(grey, box_labels(grey.shape, page.panels), lettering))
    return result


def _central(box: tuple, share: float) -> tuple[int, int, int, int]:
    x1, y1, x2, y2 = box
    dx, dy = (x2 - x1) * (1 - share) / 2, (y2 - y1) * (1 - share) / 2
    return round(x1 + dx), round(y1 + dy), round(x2 - dx), round(y2 - dy)


def augmented(item: tuple[np.ndarray, ...], rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """(input, class target, text target) at ``INPUT_SHAPE`` from a zoomed, flipped, re-toned crop."""
    grey, labels, text = item
    zoom = 1.0 if rng.random() < 0.4 else rng.uniform(0.8, 1.0)
    h, w = round(grey.shape[0] * zoom), round(grey.shape[1] * zoom)
    y, x = int(rng.integers(0, grey.shape[0] - h + 1)), int(rng.integers(0, grey.shape[1] - w + 1))
    size = INPUT_SHAPE[::-1]
    grey = cv2.resize(grey[y : y + h, x : x + w], size, interpolation=cv2.INTER_AREA)
    labels = cv2.resize(labels[y : y + h, x : x + w], size, interpolation=cv2.INTER_NEAREST)
    text = cv2.resize(text[y : y + h, x : x + w], size, interpolation=cv2.INTER_NEAREST)
    if rng.random() < 0.5:
        grey, labels, text = grey[:, ::-1], labels[:, ::-1], text[:, ::-1]
    tone = grey.astype(np.float32) / 255.0 * rng.uniform(0.8, 1.1) + rng.uniform(-0.05, 0.08)
    return np.clip(tone, 0, 1), class_targets(np.ascontiguousarray(labels)), text.astype(np.float32)


def train(
    real: list, synthetic: list, steps: int, seed: int, init: Path | None = None, batch: int = 4
) -> PageNet:
    """A :class:`PageNet` trained ``steps`` batches, half real pages (when any), half synthetic;
    from the weights at ``init`` (at a third of the learning rate) when given."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = PageNet() if init is None else load_net(init).train()
    top = 3e-3 if init is None else 1e-3
    optimiser = torch.optim.AdamW(net.parameters(), lr=top, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=top, total_steps=steps)
    class_loss = torch.nn.CrossEntropyLoss(weight=torch.tensor([1.0, 1.0, 2.0]))
    text_loss = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(2.0))
    started = time.time()
    for step in range(steps):
        items = [
            (real if real and i % 2 else synthetic)[int(rng.integers(len(real) if real and i % 2 else len(synthetic)))]
            for i in range(batch)
        ]
        x, classes, text = zip(*(augmented(item, rng) for item in items))
        logits = net(torch.from_numpy(np.stack(x))[:, None])
        loss = class_loss(logits[:, :3], torch.from_numpy(np.stack(classes))) + text_loss(
            logits[:, 3], torch.from_numpy(np.stack(text))
        )
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
        if step % 25 == 0 or step == steps - 1:
            print(f"step {step} loss {loss.item():.3f} ({time.time() - started:.0f} s)", flush=True)
    return net.eval()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fit", nargs="*", default=[], help="real titles (experiment only)")
    parser.add_argument("--out", type=Path, default=WEIGHTS)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--synthetic", type=int, default=400, help="synthetic training pages")
    parser.add_argument("--colour", type=int, default=0, help="colour pages with pasted faces")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--init", type=Path, help="go on training these weights")
    parser.add_argument("--straight-art", type=float, default=0.0, help="share of panels with straight lines")
    parser.add_argument("--fragment-art", type=float, default=0.0, help="share of panels with seams, tall balloons")
    args = parser.parse_args()
    if args.fit and args.out.resolve() == WEIGHTS.resolve():
        parser.error("the shipped weights are trained on synthetic pages only: drop --fit")
    torch.set_num_threads(1)
    rng = np.random.default_rng(args.seed)
    real_pages = [page for title in args.fit for page in title_pages(title)]
    art = art_images([DATA / name for name in ART], 400, rng) + panel_art(real_pages)
    synthetic = synthetic_pages(
        art, args.synthetic, args.colour, args.seed, args.straight_art, args.fragment_art
    )
    real = [stored(grey, box_labels(grey.shape, panels), texts) for grey, panels, texts in real_pages]
    print(f"{len(real)} real pages ({', '.join(args.fit) or 'none'}), {len(synthetic)} synthetic, {len(art)} art")
    manifest = {
        "sources": sorted(ART) + [f"manga_pages/{title}" for title in args.fit],
        "real_titles": args.fit,
        "synthetic_pages": args.synthetic,
        "colour_pages": args.colour,
        "steps": args.steps,
        "seed": args.seed,
        "straight_art": args.straight_art,
        "fragment_art": args.fragment_art,
        "init": training_manifest(args.init) if args.init else None,
    }
    save_weights(train(real, synthetic, args.steps, args.seed, args.init), args.out, manifest)
    print(f"weights: {args.out}")


if __name__ == "__main__":
    main()
