"""Train the drawn-face candidate verifier (``raypipe/detect/weights/drawn_verifier.npz``).

The shipped detector runs, as a comic run runs it (panel crops, lettering painted over), at a low
candidate threshold over pages drawn by raypipe's generators with the crops of the FIT fan-art
characters (``anime_fanart``: bae, calli, fauna, gura, mococo; allowed for training) and TRAINING
seeds (``--seed``, never the bench's seed 0): synthetic pages of the detector's training generator,
composed colour pages and manga-printed pages, in turn. Each candidate is labelled by where the
faces were pasted (the bench's rule: a candidate claims the face its centre falls in, one each,
best first; a second candidate on a claimed face is left out, neither face nor non-face) and
described by :meth:`DrawnFaceVerifier.features` (the DenseNet backbone under the model root). A
logistic regression is fitted on them, its L2 strength chosen by 3-fold cross-validation grouped
by page (log loss). With ``--figures`` each page first gets coloured or painted bodies and whole
figures, under its faces and on their own (:func:`raypipe.testing.drawn_figures.with_figures`: no
truth box, no face covered); ``--pool-seed`` fits on the cached candidates of other seeds too (a
seed's cache as an earlier run left it). With ``--mirrored`` the candidates are described by the
mean features of each chip and its mirror image (the file records it, and the verifier then
describes boxes so): the pages of the seed's plain cache are drawn again, in order, and only the
mirror images go through the backbone, averaged with the cached features (the whitening is affine,
so this is the mirrored verifier's description). With ``--fonts`` each page gets Japanese lettering
set in those font files (:func:`raypipe.testing.drawn_lettering.with_lettering`: balloons of
vertical dialogue, narration boxes, sound effects; no face covered), and ``--text-mode`` says how
the panel crops handle text (default ``lettering-filter``, stages 9-12's recipe; ``none`` is what
a comic run with the verifier does since stage 14); ``--lettering-share`` letters only that share
of the pages (:func:`gets_lettering`), the others stay as the generators drew them. No manga page, ``anime/``, ``anime_pages/`` or ``sample/`` is read. Features
are cached under ``~/.cache/raypipe/bench/`` (one file per seed and candidate threshold), so a
rerun with more ``--seconds`` adds pages to them.

    nice -n 10 python bench/train_drawn_verifier.py --seconds 900 --seed 7       # stage 9
    nice -n 10 python bench/train_drawn_verifier.py --seconds 840 --seed 8 --figures --pool-seed 7  # stage 10 (not chosen)
    nice -n 10 python bench/train_drawn_verifier.py --seconds 600 --seed 7 --mirrored  # stage 11 (not chosen)
    nice -n 10 python bench/train_drawn_verifier.py --seconds 1500 --seed 8 --out /tmp/verifier_seed8.npz  # stage 12: more pages,
    nice -n 10 python bench/train_drawn_verifier.py --seconds 1500 --seed 9 --out /tmp/verifier_seed9.npz  # two seeds side by side,
    nice -n 10 python bench/train_drawn_verifier.py --seconds 0 --seed 7 --pool-seed 8 9 --out /tmp/v12/drawn_verifier_pooled.npz  # then one fit on all three
    nice -n 10 python bench/train_drawn_verifier.py --seconds 1080 --seed 7 --text-mode none --out /tmp/v15/drawn_verifier_fonts.npz \
        --fonts ../fonts/ipaexg/ipaexg.ttf ../fonts/noto-serif-jp/400Regular/NotoSerifJP_400Regular.ttf \
        ../fonts/noto-serif-jp/900Black/NotoSerifJP_900Black.ttf  # stage 15: real Japanese type
    # stage 16: the same, lettering on half of the pages (seed 8 the same with --pool-seed 7)
    nice -n 10 python bench/train_drawn_verifier.py --seconds 1080 --seed 7 --text-mode none --lettering-share 0.5 --fonts ...
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
from drawn_faces_detect import SHARED, synthetic_pages

from raypipe.comic.split import TEXT_MODES, split_page
from raypipe.detect.drawn import DrawnFaceDetector
from raypipe.detect.drawn_verifier import (
    VERIFIER,
    DrawnFaceVerifier,
    box_terms,
    candidate_chips,
    find_backbone,
    save_verifier,
)
from raypipe.evaluation.comic import centre_claims
from raypipe.features.drawn_densenet import DrawnFaceDenseNet, load_projection, whitened
from raypipe.testing.comic_pages import compose_pages, load_characters, split_characters
from raypipe.testing.drawn_figures import with_figures
from raypipe.testing.drawn_lettering import load_fonts, with_lettering
from raypipe.testing.manga_print_pages import manga_print_pages

CACHE = Path(os.environ.get("RAYPIPE_CACHE", Path.home() / ".cache" / "raypipe")) / "bench"
GENERATORS = ("synthetic", "composed", "print")
PAGES_PER_DRAW = 5


def cache_file(seed: int, candidate_threshold: float, figures: bool, mirrored: bool = False, lettered: str = "") -> Path:
    """Where the described candidates of a training seed are cached (``lettered``: a name for the
    fonts and text mode of the pages, '' for stages 9-12's pages)."""
    variant = f"{'_figures' * figures}{'_mirrored' * mirrored}{'_' * bool(lettered)}{lettered}"
    return CACHE / f"drawn_verifier_seed{seed}_t{candidate_threshold:.2f}{variant}.npz"


class MirrorHalf:
    """The verifier's description of each candidate's MIRRORED chip alone (box terms as usual):
    averaged with the plain description it is the mirrored verifier's."""

    def __init__(self, backbone: Path):
        self._extractor = DrawnFaceDenseNet(model_path=backbone, projection=None, device="cpu")
        self._projection = load_projection()

    def features(self, image: np.ndarray, boxes: np.ndarray, scores) -> np.ndarray:
        chips = [chip[:, ::-1] for chip in candidate_chips(image, boxes)]
        return np.hstack([whitened(self._extractor.pooled(chips), self._projection), box_terms(boxes, scores, image.shape)])


def gets_lettering(seed: int, draw: int, page: int, share: float) -> bool:
    """Whether page ``page`` of draw ``draw`` of training ``seed`` is lettered: a draw of its own
    generator (``[seed, draw, page, 16]``, apart from the lettering's) under ``share``, so that
    share 1 letters every page and the lettering itself is drawn as before."""
    return bool(np.random.default_rng([seed, draw, page, 16]).random() < share)


def generated_pages(kind: str, characters: dict, draw: int, seed: int) -> tuple[list[np.ndarray], list[list]]:
    """``PAGES_PER_DRAW`` pages of generator ``kind``, draw number ``draw`` of training ``seed``."""
    page_seed = 10_000 * seed + draw
    if kind == "synthetic":
        return synthetic_pages(characters, PAGES_PER_DRAW, page_seed)
    make = compose_pages if kind == "composed" else manga_print_pages
    pages = make(characters, PAGES_PER_DRAW, seed=page_seed)
    return [p.image for p in pages], [p.faces for p in pages]


def labelled_candidates(page: np.ndarray, faces: list, detector, verifier, text_mode: str) -> tuple[np.ndarray, np.ndarray]:
    """Features and labels (1 face, 0 not) of the candidates ``detector`` finds in the page's
    panel crops (text handled as ``text_mode`` says); a second candidate on an already claimed
    face is left out."""
    features, boxes, scores = [], [], []
    for crop in split_page(page, text_mode=text_mode):
        found, found_scores = detector.candidates(crop.image)
        if len(found):
            features.append(verifier.features(crop.image, found, found_scores))
            boxes.append(found + np.tile(crop.origin, 2))
            scores.append(found_scores)
    if not features:
        return np.zeros((0, 386)), np.zeros(0)
    features, boxes, order = np.vstack(features), np.vstack(boxes), np.argsort(-np.concatenate(scores))
    claims = dict(zip(order, centre_claims(boxes[order].tolist(), faces)))
    inside = [any(x1 <= (b[0] + b[2]) / 2 < x2 and y1 <= (b[1] + b[3]) / 2 < y2 for x1, y1, x2, y2 in faces)
              for b in boxes]  # fmt: skip
    kept = [i for i in range(len(boxes)) if claims[i] is not None or not inside[i]]
    return features[kept], np.array([claims[i] is not None for i in kept], np.float64)


def fitted(features: np.ndarray, labels: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, float, float]:
    """``(coef, intercept, C)`` of the logistic regression whose C of 0.001-3 has the best grouped
    3-fold log loss."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold, cross_val_score

    def model(c: float) -> LogisticRegression:
        return LogisticRegression(C=c, max_iter=2000)

    losses = {c: -cross_val_score(model(c), features, labels, groups=groups, cv=GroupKFold(3), scoring="neg_log_loss").mean()
              for c in (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0)}  # fmt: skip
    print("C -> cross-validated log loss:", {c: round(v, 4) for c, v in losses.items()}, flush=True)
    best = min(losses, key=losses.get)
    final = model(best).fit(features, labels)
    return final.coef_.reshape(-1), float(final.intercept_[0]), best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=900, help="time box for describing candidates")
    parser.add_argument("--seed", type=int, default=7, help="training seed (the bench chooses on seed 0)")
    parser.add_argument("--candidate-threshold", type=float, default=0.15)
    parser.add_argument("--figures", action="store_true", help="paste bodies and figures onto the pages")
    parser.add_argument("--pool-seed", type=int, nargs="*", default=[], help="fit on these seeds' caches too (same fonts, share and text mode)")
    parser.add_argument("--mirrored", action="store_true", help="mirror-averaged features of the seed's cached pages")
    parser.add_argument("--fonts", nargs="+", default=[], help="font files to set Japanese lettering on the pages in")
    parser.add_argument("--lettering-share", type=float, default=1.0, help="share of the pages lettered with --fonts")
    parser.add_argument("--text-mode", choices=TEXT_MODES, default="lettering-filter", help="how the panel crops handle text")
    parser.add_argument("--out", type=Path, default=VERIFIER)
    args = parser.parse_args()
    if args.seed == 0:
        sys.exit("seed 0 draws the bench's choosing pages: train on another seed")
    try:
        fonts = load_fonts(args.fonts)
    except FileNotFoundError as error:
        sys.exit(f"--fonts: {error}")
    if not 0 <= args.lettering_share <= 1 or (args.lettering_share < 1 and not fonts):
        sys.exit("--lettering-share: a share from 0 to 1 of the pages lettered with --fonts")
    lettered = ("fonts-" + "-".join(font.path.stem for font in fonts)) * bool(fonts)
    lettered += f"_share-{args.lettering_share:.2f}" * (args.lettering_share < 1)
    lettered += f"{'_' * bool(lettered)}text-{args.text_mode}" * (args.text_mode != "lettering-filter")
    import torch

    torch.set_num_threads(1)
    backbone = find_backbone(None)
    if backbone is None:
        sys.exit("no DenseNet backbone under the model root: run `raypipe models fetch`")
    fit, _ = split_characters(load_characters(SHARED / "data" / "anime_fanart"))
    detector = DrawnFaceDetector(candidate_threshold=args.candidate_threshold)
    verifier = DrawnFaceVerifier(backbone, weights=None)
    cache = cache_file(args.seed, args.candidate_threshold, args.figures, args.mirrored, lettered)
    plain = dict(np.load(cache_file(args.seed, args.candidate_threshold, args.figures, lettered=lettered))) if args.mirrored else None
    describer = MirrorHalf(backbone) if args.mirrored else verifier
    store = dict(np.load(cache)) if cache.is_file() else {"x": np.zeros((0, 386)), "y": np.zeros(0), "page": np.zeros(0)}
    draw, start = int(store["page"].max() + 1) // PAGES_PER_DRAW if len(store["page"]) else 0, time.monotonic()
    while time.monotonic() - start < args.seconds and (plain is None or draw * PAGES_PER_DRAW <= plain["page"].max()):
        kind = GENERATORS[draw % len(GENERATORS)]
        for i, (page, faces) in enumerate(zip(*generated_pages(kind, fit, draw, args.seed))):
            if args.figures:
                page = with_figures(page, faces, np.random.default_rng([args.seed, draw, i]))
            if fonts and gets_lettering(args.seed, draw, i, args.lettering_share):
                page = with_lettering(page, faces, np.random.default_rng([args.seed, draw, i, 15]), fonts)
            x, y = labelled_candidates(page, faces, detector, describer, args.text_mode)
            page_id = np.full(len(y), draw * PAGES_PER_DRAW + i, np.float64)
            if plain is not None:
                rows = plain["page"] == page_id[:1] if len(y) else plain["page"] == -1
                if not np.array_equal(plain["y"][rows], y):
                    sys.exit(f"page {draw * PAGES_PER_DRAW + i} drawn again differs from the cache")
                x = (plain["x"][rows] + x) / 2
            store = {"x": np.vstack([store["x"], x]), "y": np.concatenate([store["y"], y]), "page": np.concatenate([store["page"], page_id])}
        draw += 1
        CACHE.mkdir(parents=True, exist_ok=True)
        np.savez(cache, **store)
        print(f"{time.monotonic() - start:.0f} s: {draw} draws, {len(store['y'])} candidates, {int(store['y'].sum())} faces", flush=True)
    pools = [store] + [dict(np.load(cache_file(seed, args.candidate_threshold, False, args.mirrored, lettered))) for seed in args.pool_seed]
    pages = [pool["page"] + 1e6 * k for k, pool in enumerate(pools)]  # page ids apart per seed
    x, y = (np.concatenate([pool[key] for pool in pools]) for key in ("x", "y"))
    groups = np.concatenate(pages)
    coef, intercept, c = fitted(x, y, groups)
    record = {"characters": sorted(fit), "source": "anime_fanart (fit characters)", "generators": list(GENERATORS),
              "pages": int(store["page"].max() + 1), "seed": args.seed, "candidate_threshold": args.candidate_threshold,
              "figures": args.figures, "mirrored": args.mirrored,
              "fonts": [font.path.name for font in fonts], "lettering_share": args.lettering_share, "text_mode": args.text_mode, "pooled_seeds": {s: int(p["page"].max() + 1) for s, p in zip(args.pool_seed, pools[1:])},
              "candidates": len(y), "faces": int(y.sum()), "C": c, "detector": "drawn_faces.onnx (stage 7)"}  # fmt: skip
    command = (f"python bench/train_drawn_verifier.py --seconds {args.seconds:g} --seed {args.seed} --candidate-threshold "
               f"{args.candidate_threshold}" + " --figures" * args.figures + " --mirrored" * args.mirrored + (" --pool-seed " + " ".join(map(str, args.pool_seed))) * bool(args.pool_seed)
               + f" --text-mode {args.text_mode}" * (args.text_mode != "lettering-filter") + f" --lettering-share {args.lettering_share:g}" * (args.lettering_share < 1) + (" --fonts " + " ".join(args.fonts)) * bool(args.fonts))  # fmt: skip
    save_verifier(args.out, coef, intercept, mirrored=args.mirrored, trained_on=json.dumps(record), command=command)
    print(f"wrote {args.out}: {json.dumps(record)}")


if __name__ == "__main__":
    main()
