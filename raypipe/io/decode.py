"""Bytes -> RGB uint8 pixels, whatever the file: EXIF rotation, palette, grey, alpha, CMYK, 16-bit."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError


class DecodeError(ValueError):
    """The bytes are not an image raypipe can use; the message says why."""


@dataclass(frozen=True)
class DecodedImage:
    pixels: np.ndarray  # (H, W, 3) uint8 RGB, possibly downscaled
    width: int  # original size, after EXIF rotation
    height: int
    scale: float  # original pixels per decoded pixel (>= 1)


def decode_image(data: bytes, max_pixels: int, max_side: int) -> DecodedImage:
    """Decode ``data``; refuse more than ``max_pixels``; downscale to ``max_side`` at most.

    Only the first frame of an animation is used. Transparent areas become white.
    """
    if not data:
        raise DecodeError("empty file (0 bytes)")
    try:
        return _decode(data, max_pixels, max_side)
    except DecodeError:
        raise
    except UnidentifiedImageError:
        raise DecodeError("not an image (unrecognised format)") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
        raise DecodeError(f"image too large: {err}") from None
    except (OSError, SyntaxError, ValueError) as err:
        raise DecodeError(f"corrupt or truncated image: {err}") from None
    except Exception as err:  # noqa: BLE001 - a crafted file must fail as this file's error
        raise DecodeError(f"unreadable image ({type(err).__name__}: {err})") from None


def _decode(data: bytes, max_pixels: int, max_side: int) -> DecodedImage:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        image = Image.open(io.BytesIO(data))
        width, height = image.size
        if width * height > max_pixels:
            raise DecodeError(
                f"image too large: {width}x{height} = {width * height} pixels > {max_pixels} "
                "(raise extract.max_image_pixels to accept it)"
            )
        image.seek(0)
        image.draft("RGB", _draft_size(width, height, max_side))
        image.load()
    try:
        image = ImageOps.exif_transpose(image)
    except (OSError, ValueError, SyntaxError, KeyError, TypeError):
        pass  # unreadable EXIF: keep the stored orientation
    width, height = _oriented_size(width, height, image)
    return _downscale(_to_rgb(image), width, height, max_side)


def _draft_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    """JPEG draft target: decode at reduced size when far larger than needed."""
    factor = max(width, height) / max_side
    return (width, height) if factor <= 1 else (int(width / factor) + 1, int(height / factor) + 1)


def _oriented_size(width: int, height: int, image: Image.Image) -> tuple[int, int]:
    """Original size with the EXIF rotation applied (the draft may have shrunk ``image``)."""
    if (image.width > image.height) != (width > height) and width != height:
        return height, width
    return width, height


def _to_rgb(image: Image.Image) -> np.ndarray:
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        values = np.asarray(image, dtype=np.float64)
        top = values.max() or 1.0
        grey = np.clip(values / top * 255.0, 0, 255).astype(np.uint8)
        return np.repeat(grey[:, :, None], 3, axis=2)
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA"):
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, image.convert("RGBA"))
    return np.asarray(image.convert("RGB"), dtype=np.uint8)


def _downscale(rgb: np.ndarray, width: int, height: int, max_side: int) -> DecodedImage:
    import cv2

    h, w = rgb.shape[:2]
    if max(h, w) > max_side:
        factor = max_side / max(h, w)
        rgb = cv2.resize(rgb, (max(1, round(w * factor)), max(1, round(h * factor))), interpolation=cv2.INTER_AREA)
    scale = width / rgb.shape[1]
    return DecodedImage(np.ascontiguousarray(rgb), width, height, scale)
