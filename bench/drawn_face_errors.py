"""Where the drawn-face detector goes wrong on the real manga pages boxed by eye (measurement only).

Per title, at the detector's threshold, as a comic run detects (panel crops, ``--text`` mode):
  * the misses by face size (long side, page pixels) and aspect (width / height), and why: the
    detector scored the face but under the threshold (``low score``), a detection sits on the
    face but its centre falls outside the box (``box off``), the face is not in any panel crop
    or was dropped as text (``comic path``: found on the whole page), or ``nothing`` found,
  * the false positives by what they sit on, first that applies: a second detection of a boxed
    face (``duplicate``), the surroundings of a boxed face (``next to a face``: hair, body),
    the pages' true lettering of ``annotation.json`` (``lettering``), a balloon the comic path
    found (``balloon``), a true panel's edge or the gutter (``panel edge``), else ``art``
    (hands, backgrounds, objects: see the overlays).
``--overlays DIR`` writes each page with the boxed faces (green), hits (blue), false positives
(red, with score and kind) and misses (yellow). The pages are CC BY-NC, evaluation only: no
setting is chosen here and the overlays stay outside the repository.

    python bench/drawn_face_errors.py --overlays /tmp/errors
    python bench/drawn_face_errors.py --flip none --threshold 0.55   # stage 4 before flips
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
from drawn_faces_detect import SHARED, above, finder, manga_sets
from manga_pages import xywh_boxes

from raypipe.comic.split import TEXT_MODES, text_share
from raypipe.detect import DETECTORS
from raypipe.detect.drawn import FLIP_MODES, VERIFIER_MODES
from raypipe.evaluation.comic import centre_claims

SIZES, ASPECTS = (40, 70, 120), (0.8, 1.25)


def annotations() -> dict[str, tuple[list, list]]:
    """``page name -> (true panels, true lettering)`` from OpenMantra's ``annotation.json``."""
    books = json.loads((SHARED / "data" / "manga_pages" / "annotation.json").read_text(encoding="utf-8"))
    return {Path(p["image_paths"]["ja"]).stem: (xywh_boxes(p["frame"]), xywh_boxes(p["text"]))
            for book in books for p in book["pages"]}  # fmt: skip


def centre_in(box, face) -> bool:
    return face[0] <= (box[0] + box[2]) / 2 < face[2] and face[1] <= (box[1] + box[3]) / 2 < face[3]


def near(box, face, grow: float = 0.5) -> bool:
    """Whether ``box``'s centre lies in ``face`` grown by ``grow`` of its size on each side."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    w, h = face[2] - face[0], face[3] - face[1]
    return face[0] - grow * w <= cx < face[2] + grow * w and face[1] - grow * h <= cy < face[3] + grow * h


def on_edge(box, panels: list, margin: float = 0.15) -> bool:
    """Whether ``box`` crosses a panel's edge (beyond ``margin`` of its size) or lies in no panel."""
    w, h = box[2] - box[0], box[3] - box[1]
    inner = (box[0] + margin * w, box[1] + margin * h, box[2] - margin * w, box[3] - margin * h)
    return not any(p[0] <= inner[0] and p[1] <= inner[1] and inner[2] <= p[2] and inner[3] <= p[3] for p in panels)


def false_positive_kind(box, faces, claimed_by_others: bool, panels, lettering, balloons) -> str:
    if claimed_by_others:
        return "duplicate"
    if any(near(box, f) for f in faces):
        return "next to a face"
    if text_share(box, lettering) > 0.2:
        return "lettering"
    if text_share(box, balloons) > 0.3:
        return "balloon"
    if on_edge(box, panels):
        return "panel edge"
    return "art"


def miss_reason(face, found_all, whole_page: list) -> tuple[str, float]:
    """Why ``face`` was missed, and the best score found on it: see the module docstring
    (``found_all``: comic-path boxes and scores at any score; ``whole_page``: boxes found on the
    whole page at the threshold)."""
    inside = [s for b, s in found_all if centre_in(b, face)]
    if inside:
        return "low score", max(inside)
    if any(near(b, face, 0.25) for b, _ in found_all if _ >= 0.3):
        return "box off", 0.0
    if any(claim is not None for claim in centre_claims(whole_page, [face])):
        return "comic path", 0.0
    return "nothing", 0.0


def bin_name(value: float, edges) -> str:
    i = int(np.digitize(value, edges))
    return f"<{edges[0]}" if i == 0 else f">={edges[-1]}" if i == len(edges) else f"{edges[i - 1]}-{edges[i]}"


def draw(image, faces, hits, misses, false_positives, path: Path) -> None:
    canvas = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    for boxes, colour, width in [(faces, (0, 200, 0), 1), (hits, (255, 0, 0), 2), (misses, (0, 220, 255), 3)]:
        for b in boxes:
            cv2.rectangle(canvas, tuple(map(int, b[:2])), tuple(map(int, b[2:4])), colour, width)
    for b, score, kind in false_positives:
        cv2.rectangle(canvas, tuple(map(int, b[:2])), tuple(map(int, b[2:4])), (0, 0, 255), 2)
        cv2.putText(canvas, f"{score:.2f} {kind}", (int(b[0]), int(b[1]) - 3), 0, 0.5, (0, 0, 255), 1, cv2.LINE_AA)
    cv2.imwrite(str(path), canvas)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--text", choices=TEXT_MODES, default="lettering-filter")
    parser.add_argument("--model", help="an ONNX model other than the shipped one")
    parser.add_argument("--long-sides", type=int, nargs="+", help="passes (default: the detector's)")
    parser.add_argument("--flip", choices=FLIP_MODES, help="test-time flip mode (default: the detector's)")
    parser.add_argument("--verifier", choices=VERIFIER_MODES, help="the candidate verifier (default: the detector's)")
    parser.add_argument("--threshold", type=float, help="score threshold (default: the detector's; the verifier's with one)")
    parser.add_argument("--overlays", type=Path, help="write annotated pages here (outside the repository)")
    args = parser.parse_args()
    settings = {"model_path": args.model, "long_sides": args.long_sides, "flip": args.flip, "verifier": args.verifier}
    detector = DETECTORS.build({"name": "drawn-faces", **{k: v for k, v in settings.items() if v}})
    if detector.verifier is None:
        threshold, detector.score_threshold = args.threshold or detector.score_threshold, 0.05
    else:  # scores are the verifier's probabilities
        threshold, detector.verifier_threshold = args.threshold or detector.verifier_threshold, 0.0
    truth_pages, texts = annotations(), {}
    comic, whole = finder(detector, "panels", args.text, texts), finder(detector, "pages", "none", texts)
    for title, (names, images, truth) in manga_sets().items():
        misses, fps, n_found, low_scores = Counter(), Counter(), 0, []
        for name, image, faces in zip(names, images, truth):
            found_all = comic(image)
            kept = sorted([(b, s) for b, s in found_all if s >= threshold], key=lambda f: -f[1])
            boxes = [b for b, _ in kept]
            claims = centre_claims(boxes, faces)
            n_found += len(boxes)
            whole_page = above([whole(image)], threshold)[0]
            panels, lettering = truth_pages[name]
            balloons = texts[id(image)].balloons
            missed = [f for i, f in enumerate(faces) if i not in claims]
            for f in missed:
                w, h = f[2] - f[0], f[3] - f[1]
                reason, score = miss_reason(f, found_all, whole_page)
                misses[(bin_name(max(w, h), SIZES), bin_name(w / h, ASPECTS), reason)] += 1
                low_scores += [score] if reason == "low score" else []
            wrong = []
            for (b, s), claim in zip(kept, claims):
                if claim is None:
                    kind = false_positive_kind(b, faces, any(centre_in(b, f) for f in faces), panels, lettering, balloons)
                    fps[kind] += 1
                    wrong.append((b, s, kind))
            if args.overlays:
                args.overlays.mkdir(parents=True, exist_ok=True)
                hits = [b for b, c in zip(boxes, claims) if c is not None]
                draw(image, faces, hits, missed, wrong, args.overlays / f"{name}.png")
        n_true = sum(map(len, truth))
        print(f"\n## {title}: {n_true} faces, {n_found} found, {sum(misses.values())} missed, {sum(fps.values())} false")
        for i, key in enumerate(("size", "aspect", "reason")):
            counts = Counter()
            for miss, n in misses.items():
                counts[miss[i]] += n
            print(f"misses by {key}:", dict(sorted(counts.items())))
        print("best score on the low-score misses: quartiles", np.round(np.percentile(low_scores or [0], [25, 50, 75]), 2).tolist())
        print("misses (size, aspect, reason):", {", ".join(k): n for k, n in misses.most_common()})
        print("false positives by what they sit on:", dict(fps.most_common()))


if __name__ == "__main__":
    main()
