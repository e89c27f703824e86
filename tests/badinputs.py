"""A corpus of awkward image files, made in the test (no binary fixtures in the repo)."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import numpy as np
from PIL import Image


def _jpeg(image: Image.Image, **kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", **kwargs)
    return buffer.getvalue()


def make_bad_inputs(folder: Path, face_photo: Path) -> dict[str, str]:
    """Write the corpus into ``folder``; returns file name -> expected outcome (face/error/skip)."""
    folder.mkdir(parents=True, exist_ok=True)
    photo = Image.open(face_photo).convert("RGB")
    data = face_photo.read_bytes()
    expected = {}

    def put(name: str, payload: bytes, outcome: str) -> None:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(payload)
        expected[name] = outcome

    put("corrupt.jpg", b"\xff\xd8\xff\xe0" + bytes(range(256)) * 20, "error")
    put("truncated.jpg", data[: len(data) // 3], "error")
    put("empty.png", b"", "error")
    put("not_an_image.jpg", b"hello, I am text pretending to be a JPEG\n" * 10, "error")
    put("notes.txt", b"some notes", "skip")
    bomb = io.BytesIO()
    Image.new("L", (12000, 10000)).save(bomb, "PNG")
    put("bomb.png", bomb.getvalue(), "error")
    put("cmyk.jpg", _jpeg(photo.convert("CMYK")), "face")
    grey16 = (np.asarray(photo.convert("L"), dtype=np.uint16) * 257).astype(np.uint16)
    buffer = io.BytesIO()
    Image.fromarray(grey16).save(buffer, "PNG")
    put("grey16.png", buffer.getvalue(), "face")
    rgba = photo.convert("RGBA")
    buffer = io.BytesIO()
    rgba.save(buffer, "PNG")
    put("alpha.png", buffer.getvalue(), "face")
    rotated = photo.rotate(90, expand=True)  # stored sideways; EXIF says rotate back
    exif = Image.Exif()
    exif[0x0112] = 6
    put("exif_rotated.jpg", _jpeg(rotated, exif=exif), "face")
    put("ünïcödé name with spaces.jpg", data, "face")
    put("x/same.jpg", data, "face")
    put("y/same.jpg", data, "face")
    buffer = io.BytesIO()
    frames = [photo, Image.new("RGB", photo.size, (0, 0, 0))]
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:])
    put("animated.gif", buffer.getvalue(), "face")
    for fmt, ext in (("WEBP", "webp"), ("BMP", "bmp"), ("TIFF", "tiff")):
        buffer = io.BytesIO()
        photo.save(buffer, fmt)
        put(f"format.{ext}", buffer.getvalue(), "face")
    shutil.copy(face_photo, folder / "plain.jpg")
    expected["plain.jpg"] = "face"
    return expected
