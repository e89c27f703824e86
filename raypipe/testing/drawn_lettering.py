"""Japanese lettering set in real fonts, pasted onto finished pages: balloons (ellipse, cloud or
rectangle, a thin outline, sometimes a tail) holding vertical columns of dialogue, narration boxes,
and big rotated sound effects. The negatives a candidate verifier learns real type from
(``bench/train_drawn_verifier.py --fonts``), and the lettering of the bench's unseen-font set.

As :func:`raypipe.testing.drawn_figures.with_figures`, the pages' generators are not changed:
:func:`with_lettering` draws onto a page they made, with its own random generator, adds no truth
box and covers no face. Text is set glyph by glyph, top to bottom, columns right to left; a glyph
the font lacks (not in its character map) is skipped. The fonts are not shipped: see
``docs/drawn-detection.md``, "Stage 15", for where to get them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from raypipe.detect.boxes import boxes_overlap

Box = tuple[int, int, int, int]

HIRAGANA = "".join(chr(c) for c in range(0x3041, 0x3094))
KATAKANA = "".join(chr(c) for c in range(0x30A1, 0x30F5))
KANJI = "日一人年大十二本中長出三時行見月分後前生五間上東四今金九入学高円子外八六下来気小七山話女北午百書先名川千水半男西電校語土木聞食車何南万毎白天母火右読友左休父雨"
DIALOGUE_MARKS = "！？…、。ー"
#: Glyphs turned a quarter turn in vertical text (a long vowel mark, an ellipsis).
TURNED = "ー…"
SOUNDS = (
    "ドドド",
    "ゴゴゴ",
    "バン",
    "ザワ",
    "ドキ",
    "ガタッ",
    "ピカッ",
    "ズン",
    "ガッ",
    "シーン",
    "ゴゴ",
    "バキッ",
    "ドン",
    "キャー",
)
#: Balloons, narration boxes and sound effects per page (low, high: ``rng.integers``).
BALLOONS, NARRATIONS, SOUND_EFFECTS = (2, 6), (0, 2), (0, 3)
#: Dialogue glyph side and sound-effect glyph side, as shares of the page's short side.
GLYPH, SOUND_GLYPH = (0.018, 0.034), (0.05, 0.12)


@dataclass(frozen=True)
class Font:
    """A font file and the code points it has glyphs for."""

    path: Path
    codes: frozenset[int]

    def has(self, char: str) -> bool:
        return ord(char) in self.codes


def load_fonts(paths: list[Path | str]) -> list[Font]:
    """The fonts at ``paths``; a missing file is a one-line ``FileNotFoundError``."""
    from fontTools.ttLib import TTFont

    fonts = []
    for path in map(Path, paths):
        if not path.is_file():
            raise FileNotFoundError(f"no font file at {path}")
        with TTFont(path, lazy=True) as face:
            fonts.append(Font(path, frozenset(face.getBestCmap())))
    return fonts


@lru_cache(maxsize=256)
def _face(path: Path, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), size)


def glyph_mask(char: str, font: Font, size: int) -> np.ndarray:
    """A ``size`` x ``size`` float32 mask (0-1) of one glyph, centred, turned for vertical text
    when in :data:`TURNED`."""
    image = Image.new("L", (size, size), 0)
    ImageDraw.Draw(image).text(
        (size / 2, size / 2), char, fill=255, font=_face(font.path, size), anchor="mm"
    )
    mask = np.asarray(image, np.float32) / 255
    return np.rot90(mask, -1).copy() if char in TURNED else mask


def set_vertical(
    canvas: np.ndarray, columns: list[str], font: Font, size: int, right: int, top: int
) -> list[Box]:
    """Set ``columns`` of text into the RGB ``canvas`` (in place), glyph by glyph top to bottom,
    columns right to left from ``right``, ``top``; returns the box of each glyph set (glyphs the
    font lacks are skipped, leaving no gap)."""
    boxes, height, width = [], *canvas.shape[:2]
    for k, column in enumerate(columns):
        x, y = right - (k + 1) * int(size * 1.3), top
        for char in (c for c in column if font.has(c)):
            box = (x, y, x + size, y + size)
            if x >= 0 and y >= 0 and box[2] <= width and box[3] <= height:
                alpha = glyph_mask(char, font, size)[..., None]
                view = canvas[y : box[3], x : box[2]]
                view[:] = (view * (1 - alpha)).astype(np.uint8)  # black ink
                boxes.append(box)
            y += int(size * 1.05)
    return boxes


def dialogue(rng: np.random.Generator, font: Font) -> list[str]:
    """1-4 columns of 2-9 glyphs the font has: kana, some kanji, dialogue marks at the ends."""
    pool = [c for c in HIRAGANA * 3 + KATAKANA + KANJI if font.has(c)]
    marks = [c for c in DIALOGUE_MARKS if font.has(c)]
    columns = []
    for _ in range(int(rng.integers(1, 5))):
        column = "".join(rng.choice(pool, int(rng.integers(2, 9)))) if pool else ""
        columns.append(column + (str(rng.choice(marks)) if marks and rng.random() < 0.4 else ""))
    return columns


def text_block(columns: list[str], font: Font, size: int) -> tuple[int, int]:
    """Width and height of ``columns`` set vertically."""
    longest = max((sum(font.has(c) for c in column) for column in columns), default=0)
    return len(columns) * int(size * 1.3), max(longest, 1) * int(size * 1.05)


#: A balloon's box over its ellipse (room for the tail and a cloud's bumps), and the ellipse's
#: axes over half the text block's sides.
BALLOON_ROOM, ELLIPSE_OVER_TEXT = 1.3, 1.5


def balloon(canvas: np.ndarray, box: Box, rng: np.random.Generator, shape: str) -> None:
    """A white balloon in ``box`` with a thin black outline (in place): a ``rectangle`` (narration)
    filling it, or an ``ellipse`` or ``cloud`` (an ellipse of bumps) :data:`BALLOON_ROOM` times
    smaller, centred; an ellipse gets a tail half the time."""
    x1, y1, x2, y2 = box
    line = int(rng.integers(1, 3))
    if shape == "rectangle":
        cv2.rectangle(canvas, (x1, y1), (x2, y2), (255, 255, 255), -1)
        cv2.rectangle(canvas, (x1, y1), (x2, y2), (0, 0, 0), line, cv2.LINE_AA)
        return
    centre = ((x1 + x2) // 2, (y1 + y2) // 2)
    axes = (int((x2 - x1) / 2 / BALLOON_ROOM), int((y2 - y1) / 2 / BALLOON_ROOM))
    if shape == "ellipse" and rng.random() < 0.5:
        turn = rng.uniform(0, 2 * np.pi)
        way = np.array([np.cos(turn), np.sin(turn)])
        side = np.array([-way[1], way[0]]) * min(axes) * 0.15
        at = np.array(centre) + way * np.array(axes) * 0.8
        tip = np.array(centre) + way * np.array(axes) * rng.uniform(1.1, BALLOON_ROOM)
        tail = np.array([at + side, tip, at - side]).astype(np.int32)
        cv2.fillPoly(canvas, [tail], (255, 255, 255), cv2.LINE_AA)
        cv2.polylines(canvas, [tail], False, (0, 0, 0), line, cv2.LINE_AA)
    outline = _bumps(centre, axes, rng) if shape == "cloud" else []
    for c, a in outline + [(centre, axes)]:
        cv2.ellipse(canvas, c, a, 0, 0, 360, (0, 0, 0), line * 2, cv2.LINE_AA)
    for c, a in outline + [(centre, axes)]:
        cv2.ellipse(
            canvas,
            c,
            (max(a[0] - line, 1), max(a[1] - line, 1)),
            0,
            0,
            360,
            (255, 255, 255),
            -1,
            cv2.LINE_AA,
        )


def _bumps(centre, axes, rng: np.random.Generator) -> list:
    """Small circles around an ellipse's rim: a cloud balloon's outline (within
    :data:`BALLOON_ROOM` of the ellipse)."""
    n, r = int(rng.integers(10, 18)), max(3, int(min(axes) * rng.uniform(0.15, BALLOON_ROOM - 1)))
    angles = np.arange(n) * 2 * np.pi / n
    return [
        ((int(centre[0] + axes[0] * np.cos(a)), int(centre[1] + axes[1] * np.sin(a))), (r, r))
        for a in angles
    ]


def sound_ink(
    rng: np.random.Generator, font: Font, size: int
) -> tuple[np.ndarray, np.ndarray, float] | None:
    """``(letters, rim, fill)`` of a sound effect of big katakana set across or down and rotated:
    float32 masks (0-1) of its letters and of their rim, and the letters' grey (white with a black
    rim, or solid black); None when the font has none of its glyphs."""
    chars = [c for c in str(rng.choice(SOUNDS)) if font.has(c)]
    if not chars:
        return None
    across = rng.random() < 0.5
    w, h = (size * len(chars), size) if across else (size, size * len(chars))
    ink = np.zeros((h + size, w + size), np.float32)
    for i, char in enumerate(chars):
        x, y = (size // 2 + i * size, size // 2) if across else (size // 2, size // 2 + i * size)
        ink[y : y + size, x : x + size] = np.maximum(
            ink[y : y + size, x : x + size], glyph_mask(char, font, size)
        )
    turn = cv2.getRotationMatrix2D((ink.shape[1] / 2, ink.shape[0] / 2), rng.uniform(-30, 30), 1.0)
    ink = cv2.warpAffine(ink, turn, ink.shape[::-1])
    rim = cv2.dilate(ink, np.ones((3, 3), np.uint8), iterations=max(1, size // 20))
    return ink, rim, 255.0 if rng.random() < 0.5 else 0.0


def with_lettering(
    page: np.ndarray, faces: list, rng: np.random.Generator, fonts: list[Font]
) -> np.ndarray:
    """A copy of the RGB ``page`` with balloons of vertical dialogue, narration boxes and sound
    effects set in ``fonts`` (one chosen per item), none over a face of ``faces`` (true boxes)
    or over lettering already placed."""
    out, taken = page.copy(), [tuple(int(v) for v in face) for face in faces]
    short = min(page.shape[:2])
    items = ["ellipse"] * int(rng.integers(*BALLOONS)) + ["rectangle"] * int(
        rng.integers(*NARRATIONS)
    )
    items += ["sound"] * int(rng.integers(*SOUND_EFFECTS))
    for item in items:
        font = fonts[int(rng.integers(len(fonts)))]
        if item != "sound":
            placed = lettered_balloon(out, taken, rng, font, int(short * rng.uniform(*GLYPH)), item)
            taken += [placed[0]] if placed else []
            continue
        made = sound_ink(rng, font, int(short * rng.uniform(*SOUND_GLYPH)))
        box = made and _free_spot(out.shape, made[0].shape[::-1], taken, rng)
        if box:
            _ink(out, box, *made)
            taken.append(box)
    return out


def lettered_balloon(canvas: np.ndarray, taken: list, rng: np.random.Generator, font: Font, size: int,
                     shape: str) -> tuple[Box, list[Box]] | None:  # fmt: skip
    """A balloon (``ellipse``, sometimes a cloud, or a ``rectangle`` narration box) of vertical
    dialogue in ``font``, glyphs ``size`` wide, somewhere in the RGB ``canvas`` clear of the
    ``taken`` boxes (in place); returns its box and its glyphs' boxes, or None (no room)."""
    columns = dialogue(rng, font)
    w, h = text_block(columns, font, size)
    if shape == "rectangle":
        room = (w + 2 * size, h + size)
    else:
        room = tuple(int(2 * BALLOON_ROOM * (ELLIPSE_OVER_TEXT * v / 2 + size / 2)) for v in (w, h))
    box = _free_spot(canvas.shape, room, taken, rng)
    if box is None:
        return None
    balloon(canvas, box, rng, "cloud" if shape == "ellipse" and rng.random() < 0.2 else shape)
    centre = ((box[0] + box[2]) // 2, (box[1] + box[3]) // 2)
    return box, set_vertical(canvas, columns, font, size, centre[0] + w // 2, centre[1] - h // 2)


def _ink(canvas: np.ndarray, box: Box, letters: np.ndarray, rim: np.ndarray, fill: float) -> None:
    """Paint a sound effect's ``rim`` black and its ``letters`` in ``fill`` into ``box`` (in place)."""
    x1, y1, x2, y2 = box
    view = canvas[y1:y2, x1:x2].astype(np.float32) * (1 - rim[..., None])
    canvas[y1:y2, x1:x2] = (view * (1 - letters[..., None]) + fill * letters[..., None]).astype(
        np.uint8
    )


def _free_spot(
    shape, size: tuple[int, int], taken: list, rng: np.random.Generator, tries: int = 30
) -> Box | None:
    """A box of ``size`` (w, h) inside an image of ``shape`` that overlaps no ``taken`` box."""
    w, h = size
    if w >= shape[1] or h >= shape[0]:
        return None
    for _ in range(tries):
        x, y = int(rng.integers(0, shape[1] - w)), int(rng.integers(0, shape[0] - h))
        box = (x, y, x + w, y + h)
        if not any(boxes_overlap(box, t) for t in taken):
            return box
    return None
