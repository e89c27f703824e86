"""The shipped drawn-face detector against the LBP cascade, per set, on truth no detector made.

Sets (none of their characters, artists or pages was used to train the detector but for the
fit fan-art characters):
  * synthetic manga pages of the training generator with the fit fan-art characters pasted in
    (other draws than training's; with the composed pages of the same characters, the set the
    shipped model and settings are chosen on),
  * composed pages (:mod:`raypipe.testing.comic_pages`) of the fan-art characters the detector
    was trained on (``fit``), of the other fan-art characters (``held-out fan art``) and of the
    ``anime/`` characters (another source); truth: each whole pasted crop; a detection counts
    when its centre falls in one (one each),
  * manga-printed pages (:mod:`raypipe.testing.manga_print_pages`: black-and-white, panels
    shot as close-ups, medium and long shots) of the fit fan-art characters (the third choosing
    set) and of the held-out ones; truth: where each face was pasted,
  * real manga pages, per title: the faces boxed by eye in ``bench/data/manga_faces.json``; a
    detection counts when its centre falls in a boxed face (one each). Each title is scored at
    the shipped threshold and, leaving one title out, at the threshold of best F1 on the other,
  * the illustrations of ``anime_pages/``: faces found against the faces a person counted,
  * with ``--fonts``, the manga-printed pages of the fit characters with Japanese lettering set
    in those font files pasted on (:func:`raypipe.testing.drawn_lettering.with_lettering`, the
    truth unchanged): ``lettered: fit fan art``, a choosing set when its fonts are not the ones a
    verifier was trained with (stage 15).

Each detector runs as a comic run runs it (``--on panels``: in the panel crops of
:func:`raypipe.comic.split.split_page`, text handled as ``--text`` says, one or several of
:data:`raypipe.comic.split.TEXT_MODES`) or on whole pages (``--on pages``). With several text
modes, each manga title in turn chooses the mode of best F1 (shipped threshold), reported on the
other title. ``--model`` takes several graphs ('' for the shipped one) and ``--flip`` several
test-time flip modes, each pair scored in one run on the same pages (``--long-sides`` several sets
of passes, ``--max-scale`` one cap each); ``--threshold`` scores them
at another threshold than the shipped one (one for all, or one per flip mode). ``--verifier`` scores
the detector alone (``none``) and with the candidate verifier (:mod:`raypipe.detect.drawn_verifier`)
from each candidate threshold given (``auto``: the detector's; the default), in one run; a verified detector is scored at each
``--verifier-threshold`` (its own threshold, on the verifier's probability), the first of them
for the summary rows, and with each ``--verifier-weights`` file ('' for the shipped one).
``--with-figures`` pastes bodies and figures onto the generators' pages
(:func:`raypipe.testing.drawn_figures.with_figures`, the truth unchanged): a diagnostic set of
coloured negatives beside faces, not a choosing set. With two or more choosing sets scored (the sets
of the fit characters), the threshold of best mean F1 over them is printed too; the
illustrations of ``anime_pages/`` are scored unless ``--sets`` leaves them out.

    python bench/drawn_faces_detect.py --pages 20 --on panels --text mask lettering-filter
    python bench/drawn_faces_detect.py --pages 20 --on panels --model '' /tmp/candidate.onnx
    python bench/drawn_faces_detect.py --pages 40 --sets synthetic "composed: fit" --flip none union mean
    python bench/drawn_faces_detect.py --pages 25 --sets synthetic "composed: fit" "print: fit" \
        --verifier none 0.15 0.30 --verifier-threshold 0.4 0.5 0.6
    python bench/drawn_faces_detect.py --pages 25 --verifier 0.30 --verifier-weights '' /tmp/verifier.npz
    python bench/drawn_faces_detect.py --pages 25 --sets "composed: fit" --with-figures  # bodies pasted on
    python bench/drawn_faces_detect.py --pages 25 --verifier 0.30 --long-sides 640,320,160 960,640,320,160 --max-scale 0.55 0.825
    python bench/drawn_faces_detect.py --pages 25 --sets "print: fit" lettered --text none \
        --fonts ../fonts/zen-kaku-gothic-new/400Regular/ZenKakuGothicNew_400Regular.ttf  # unseen type
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path

import cv2
import numpy as np
from drawn_detectors import COUNTED_FACES
from train_drawn_detector import load_scenes

from raypipe.comic.split import TEXT_MODES, PageText, detect_in_panels, split_page
from raypipe.detect import DETECTORS
from raypipe.detect.drawn import FLIP_MODES
from raypipe.detect.drawn_verifier import DrawnFaceVerifier, find_backbone
from raypipe.evaluation.comic import centre_claims, centre_scores
from raypipe.testing.comic_pages import compose_pages, load_characters, split_characters
from raypipe.testing.drawn_figures import with_figures
from raypipe.testing.drawn_lettering import Font, load_fonts, with_lettering
from raypipe.testing.drawn_training_pages import training_patch
from raypipe.testing.manga_print_pages import manga_print_pages

SHARED = Path(__file__).resolve().parents[2] / "shared"
MANGA_FACES = Path(__file__).parent / "data" / "manga_faces.json"
Found = list[tuple[tuple[float, float, float, float], float]]


def read_rgb(path: Path) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def synthetic_pages(characters: dict[str, list[Path]], n_pages: int, seed: int) -> tuple[list[np.ndarray], list[list]]:
    """``n_pages`` synthetic manga pages: 2 x 2 patches of the training generator (other draws)
    with the crops of ``characters`` pasted in, enlarged to a page that the detector sees at the
    patches' own scale; truth: where each face was pasted."""
    rng, scenes = np.random.default_rng(seed + 1000), load_scenes()
    faces = [read_rgb(path) for paths in characters.values() for path in paths]
    side, scale = 320, 1164 / 640  # a 1,164-pixel page is seen at 640
    images, truth = [], []
    for _ in range(n_pages):
        patches = [training_patch(side, rng, faces, 272, scenes) for _ in range(4)]
        grey = np.vstack([np.hstack([patches[0][0], patches[1][0]]), np.hstack([patches[2][0], patches[3][0]])])
        offsets = np.float32([[0, 0, 0, 0], [side, 0, side, 0], [0, side, 0, side], [side, side, side, side]])
        boxes = np.concatenate([p[1] + offset for p, offset in zip(patches, offsets)]) * scale
        images.append(cv2.cvtColor(cv2.resize(grey, None, fx=scale, fy=scale), cv2.COLOR_GRAY2RGB))
        truth.append(boxes.tolist())
    return images, truth


GENERATED = ("synthetic", "composed", "print")


def with_figures_on(images: list[np.ndarray], truth: list[list], seed: int) -> tuple[list[np.ndarray], list[list]]:
    """The pages with bodies and figures pasted on (none on a face), the truth unchanged."""
    return [with_figures(image, faces, np.random.default_rng([seed, i])) for i, (image, faces) in enumerate(zip(images, truth))], truth


def evaluation_sets(n_pages: int, seed: int, fonts: list[Font] = ()) -> dict[str, tuple[list[np.ndarray], list[list]]]:
    """``name -> (images, true boxes per image)``; with ``fonts``, the lettered set too."""
    fit, held_out = split_characters(load_characters(SHARED / "data" / "anime_fanart"))
    sets = {"synthetic: fit fan art (validation)": synthetic_pages(fit, n_pages, seed)}
    for name, characters in [("fit fan art (trained on)", fit), ("held-out fan art", held_out),
                             ("anime/ characters", load_characters(SHARED / "data" / "anime"))]:  # fmt: skip
        pages = compose_pages(characters, n_pages, seed=seed)
        sets[f"composed: {name}"] = ([p.image for p in pages], [p.faces for p in pages])
    for name, characters in [("fit fan art (trained on)", fit), ("held-out fan art", held_out)]:
        pages = manga_print_pages(characters, n_pages, seed=seed)
        sets[f"print: {name}"] = ([p.image for p in pages], [p.faces for p in pages])
    if fonts:
        images, truth = sets["print: fit fan art (trained on)"]
        lettered = [with_lettering(image, faces, np.random.default_rng([seed, i, 15]), fonts) for i, (image, faces) in enumerate(zip(images, truth))]
        sets[f"lettered: fit fan art (trained on), {', '.join(f.path.stem for f in fonts)}"] = (lettered, truth)
    for title, (_, images, truth) in manga_sets().items():
        sets[f"manga: {title}"] = (images, truth)
    return sets


def manga_sets() -> dict[str, tuple[list[str], list[np.ndarray], list[list]]]:
    """``title -> (page names, images, faces boxed by eye per page)``."""
    boxed, sets = json.loads(MANGA_FACES.read_text())["pages"], {}
    for title in sorted({page.rsplit("_", 1)[0] for page in boxed}):
        names = sorted(page for page in boxed if page.startswith(title))
        images = [read_rgb(SHARED / "data" / "manga_pages" / "pages" / f"{n}.jpg") for n in names]
        sets[title] = (names, images, [boxed[n] for n in names])
    return sets


def finder(detector, on: str, text_mode: str, texts: dict[int, PageText]) -> Callable[[np.ndarray], Found]:
    """Faces and scores ``detector`` finds in an image; ``texts``: each image's text regions
    (by ``id``), found once and shared by the text modes."""
    def find(image: np.ndarray) -> Found:
        if on == "pages":
            return [(face.box, face.score) for face in detector.detect(image)]
        text = texts.setdefault(id(image), PageText.find(image))
        crops = split_page(image, text_mode=text_mode, text=text)
        return [(face.box, face.score) for _, face in detect_in_panels(crops, detector)]

    return find


def f1(found: list[Found], truth: list[list], threshold: float) -> float:
    s = centre_scores(above(found, threshold), truth)
    return 2 * s["recall"] * s["precision"] / max(s["recall"] + s["precision"], 1e-9)


def above(found: list[Found], threshold: float) -> list[list]:
    return [[box for box, score in page if score >= threshold] for page in found]


def f1_threshold(found: list[Found], truth: list[list]) -> float:
    """The score threshold of best F1 on ``found`` against ``truth``."""
    return float(max(np.arange(0.1, 0.91, 0.05), key=lambda t: f1(found, truth, t)))


def mean_f1_threshold(found: list[list[Found]], truth: list[list[list]]) -> float:
    """The score threshold (0.40 to 0.70) of best mean F1 over several sets (the choosing sets)."""
    mean = lambda t: np.mean([f1(f, s, t) for f, s in zip(found, truth)])
    return float(max(np.round(np.arange(0.4, 0.71, 0.05), 2), key=mean))


def mean_f1_row(name: str, found: dict[str, list[Found]], sets: dict, choosing: list[str], threshold: float) -> str:
    """The F1 of each choosing set and their mean at ``threshold``."""
    scores = [f1(found[c], sets[c][1], threshold) for c in choosing]
    return (f"| {name} | choosing sets: F1 at {threshold:.2f} | | | {threshold:.2f} | "
            f"F1 {', '.join(f'{v:.4f}' for v in scores)} | mean {np.mean(scores):.4f} |")  # fmt: skip


def row(name: str, set_name: str, found: list[Found], truth: list[list], threshold: float, note: str = "") -> str:
    s = centre_scores(above(found, threshold), truth)
    return (f"| {name} | {set_name} | {len(truth)} | {sum(map(len, truth))} | {threshold:.2f}{note} "
            f"| {s['recall']:.3f} | {s['precision']:.3f} |")  # fmt: skip


def recall_by_size(found: list[Found], truth: list[list], threshold: float, edges=(40, 70, 120)) -> str:
    """Recall of the true faces by the long side of their box (page pixels), bins split at ``edges``."""
    hits, totals = np.zeros(len(edges) + 1), np.zeros(len(edges) + 1)
    for boxes, faces in zip(above(found, threshold), truth):
        claimed = set(centre_claims(boxes, faces)) - {None}
        for i, (x1, y1, x2, y2) in enumerate(faces):
            size_bin = int(np.digitize(max(x2 - x1, y2 - y1), edges))
            totals[size_bin] += 1
            hits[size_bin] += i in claimed
    names = [f"< {edges[0]}"] + [f"{a}-{b}" for a, b in pairwise(edges)] + [f">= {edges[-1]}"]
    return ", ".join(f"{n} px: {h / max(t, 1):.2f} of {int(t)}" for n, h, t in zip(names, hits, totals))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=20, help="composed pages per set")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--on", choices=["panels", "pages"], default="panels")
    parser.add_argument("--text", nargs="+", choices=TEXT_MODES, default=["lettering-filter"], help="text modes (--on panels; default: a comic run's)")
    parser.add_argument("--model", nargs="+", default=[""], help="ONNX models to score in one run ('': the shipped one)")
    parser.add_argument("--long-sides", nargs="+", help="drawn-faces passes (default: the detector's): '640 320 160', or several sets '640,320 640,320,160'")
    parser.add_argument("--max-scale", type=float, nargs="+", help="drawn-faces max_scale, one per --long-sides set (default: the detector's)")
    parser.add_argument("--flip", nargs="+", choices=FLIP_MODES, help="drawn-faces test-time flip modes (default: the detector's)")
    parser.add_argument("--threshold", type=float, nargs="+", help="score drawn-faces at this threshold, or one per --flip mode (default: the detector's)")
    parser.add_argument("--verifier", nargs="+", default=["auto"], help="drawn-faces without the candidate verifier ('none': stage 7) and with it ('auto': from the detector's candidate threshold, the default; or from each threshold given), in one run")
    parser.add_argument("--verifier-threshold", type=float, nargs="+", help="the verifier's thresholds to score a verified detector at (default: the detector's)")
    parser.add_argument("--verifier-weights", nargs="+", default=[""], help="verifier files to score ('': the shipped one)")
    parser.add_argument("--with-figures", action="store_true", help="paste bodies and figures onto the generators' pages")
    parser.add_argument("--fonts", nargs="+", default=[], help="font files of the lettered set (print: fit with Japanese lettering)")
    parser.add_argument("--sets", nargs="+", help="score only the sets whose name starts so (synthetic, composed, print, lettered, manga, anime_pages)")
    parser.add_argument("--cascade", default=str(SHARED / "models" / "lbpcascade_animeface.xml"))
    args = parser.parse_args()
    if args.sets and "lettered" in args.sets and not args.fonts:
        raise SystemExit("--sets lettered: give the font files to letter it in (--fonts)")
    try:
        fonts = load_fonts(args.fonts)
    except FileNotFoundError as error:
        raise SystemExit(f"--fonts: {error}") from None
    sets = evaluation_sets(args.pages, args.seed, fonts)
    sets = {name: s for name, s in sets.items() if not args.sets or name.startswith(tuple(args.sets))}
    if args.with_figures:
        sets = {f"{name} + figures": with_figures_on(images, truth, args.seed + k) if name.startswith(GENERATED) else (images, truth)
                for k, (name, (images, truth)) in enumerate(sets.items())}  # fmt: skip
    modes = args.text if args.on == "panels" else ["none"]
    detectors = {}
    flips = args.flip or [None]
    thresholds = dict(zip(flips, args.threshold if args.threshold and len(args.threshold) > 1 else [None] * len(flips)))
    passes = [None]
    if args.long_sides:
        passes = [[int(v) for v in item.split(",")] for item in args.long_sides] if "," in "".join(args.long_sides) else [[int(v) for v in args.long_sides]]
    if args.max_scale and len(args.max_scale) != len(passes):
        raise SystemExit("--max-scale: give one value per --long-sides set")
    caps = dict(zip(map(tuple, passes), args.max_scale)) if args.max_scale else {}
    weights = [(v, w) for v in args.verifier for w in (args.verifier_weights if v != "none" else [""])]
    for model, sides, flip, (verifier, weight) in [(m, s, f, v) for m in args.model for s in passes for f in flips for v in weights]:
        settings = {"model_path": model, "long_sides": sides, "flip": flip, "max_scale": caps.get(tuple(sides or ()))}
        settings["verifier"] = "none" if verifier == "none" else "auto"
        if verifier not in ("none", "auto"):
            settings["candidate_threshold"] = float(verifier)
        drawn = DETECTORS.build({"name": "drawn-faces", **{k: v for k, v in settings.items() if v}})
        if verifier != "none" and drawn.verifier is None:
            raise SystemExit("--verifier: no DenseNet backbone under the model root (raypipe models fetch)")
        if weight:
            drawn.verifier = DrawnFaceVerifier(find_backbone(None), weights=weight)
        default = [thresholds[flip] or (args.threshold or [drawn.score_threshold])[0]]
        drawn.score_threshold = 0.05  # scores kept; each threshold applied below
        if verifier != "none":
            default, drawn.verifier_threshold = args.verifier_threshold or [drawn.verifier_threshold], 0.0
        for mode in modes:
            flipped = (f", passes {'/'.join(map(str, sides))}" if len(passes) > 1 else "") + (f" up to {caps[tuple(sides)]:g}" if caps else "")
            flipped += f", flip {flip}" if flip else ""
            flipped += f", verifier from {drawn.candidate_threshold:.2f}" if verifier != "none" else ""
            flipped += f" ({Path(weight).stem})" if weight else ""
            detectors[f"drawn-faces ({Path(model).stem or 'shipped'}{flipped}), text {mode}"] = (drawn, default, mode)
    if Path(args.cascade).is_file():
        cascade = DETECTORS.build({"name": "anime-cascade", "cascade_path": args.cascade})
        detectors[f"anime-cascade (baseline), text {modes[0]}"] = (cascade, [0.0], modes[0])
    texts: dict[int, PageText] = {}
    manga: dict[str, dict[str, list[Found]]] = {}  # learned detector, text mode -> title -> found
    manga_at: dict[str, float] = {}  # ... -> its threshold
    illustrations = sorted(COUNTED_FACES)
    if args.sets and "anime_pages" not in args.sets:
        illustrations = []
    drawings = [read_rgb(SHARED / "data" / "anime_pages" / n) for n in illustrations]  # kept: texts are by id
    for images, _ in sets.values() if args.on == "panels" else []:  # found once, before any detector is timed
        texts.update({id(image): PageText.find(image) for image in images})
    print(f"| detector ({args.on}) | set | images | faces | threshold | recall | precision |")
    print("|---|---|---|---|---|---|---|")
    for name, (detector, scored_at, mode) in detectors.items():
        find, learned = finder(detector, args.on, mode, texts), name.startswith("drawn-faces")
        found, seconds = {}, []
        for set_name, (images, _) in sets.items():
            found[set_name] = []
            for image in images:
                start = time.perf_counter()
                found[set_name].append(find(image))
                seconds.append(time.perf_counter() - start)
        print(f"| {name} | seconds per image, comic path (median, all sets) | {len(seconds)} | | | {np.median(seconds):.3f} s | |")
        threshold = scored_at[0]
        for set_name, (_, truth) in sets.items():
            for at in scored_at:
                print(row(name, set_name, found[set_name], truth, at, " (default)" if learned else ""), flush=True)
        if learned:  # how the shipped default was chosen: best F1 on the fit characters
            for fit in [set_name for set_name in sets if "fit fan art" in set_name]:
                chosen, truth = f1_threshold(found[fit], sets[fit][1]), sets[fit][1]
                print(f"| {name} | {fit}: threshold of best F1 | | | {chosen:.2f} | F1 {f1(found[fit], truth, chosen):.3f} "
                      f"(at the default: {f1(found[fit], truth, threshold):.3f}) | |")  # fmt: skip
        choosing = [set_name for set_name in sets if "fit fan art" in set_name]
        for at in scored_at if learned and len(choosing) >= 2 else []:
            print(mean_f1_row(name, found, sets, choosing, at))
        if learned and len(choosing) >= 2:
            chosen = mean_f1_threshold([found[c] for c in choosing], [sets[c][1] for c in choosing])
            scores = ", ".join(f"{f1(found[c], sets[c][1], chosen):.3f}" for c in choosing)
            print(f"| {name} | choosing sets: threshold of best mean F1 | | | {chosen:.2f} | F1 {scores} | |")
        titles = [set_name for set_name in sets if set_name.startswith("manga")]
        if learned:
            manga[name], manga_at[name] = {title: found[title] for title in titles}, threshold
        for title in titles if learned else []:
            print(f"| {name} | {title}: recall by face size | | | {threshold:.2f} | {recall_by_size(found[title], sets[title][1], threshold)} | |")
        for title, other in zip(titles, titles[::-1]) if learned else []:
            chosen = f1_threshold(found[other], sets[other][1])  # leave one title out
            print(row(name, title, found[title], sets[title][1], chosen, f" (best F1 on {other.split()[-1]})"))
        if not drawings:
            continue
        counts = [len(above([find(image)], threshold)[0]) for image in drawings]
        right = sum(c == COUNTED_FACES[n] for c, n in zip(counts, illustrations))
        print(f"| {name} | anime_pages: found / counted | {len(counts)} | {sum(COUNTED_FACES.values())} | {threshold:.2f} "
              f"| found {sum(counts)} ({', '.join(map(str, counts))}) | right count on {right} |")  # fmt: skip
    for fit, title in zip(titles, titles[::-1]) if len(manga) > 1 else []:  # leave one title out
        chosen = max(manga, key=lambda choice: f1(manga[choice][fit], sets[fit][1], manga_at[choice]))
        note = f" ({chosen}: best F1 on {fit.split()[-1]})"
        print(row("drawn-faces, setting chosen", title, manga[chosen][title], sets[title][1], manga_at[chosen], note))


if __name__ == "__main__":
    main()
