"""Images of the report: links relative to the run folder, or data URIs for a single-file page."""

from __future__ import annotations

import base64
import io
import mimetypes
from pathlib import Path
from urllib.parse import quote

import numpy as np
from PIL import Image

from raypipe import storage


class Assets:
    """Turns files and generated images into ``src`` values for the report at ``root``.

    Generated images go to ``files_dir`` (under ``root``) unless ``embed`` asks for data URIs.
    """

    def __init__(self, root: Path, files_dir: Path, embed: bool = False):
        self.root = root
        self.files_dir = files_dir
        self.embed = embed

    def url(self, path: Path) -> str:
        """``src`` for an existing file under the run folder."""
        if self.embed:
            mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return data_uri(path.read_bytes(), mime)
        return quote(path.relative_to(self.root).as_posix())

    def image(self, name: str, pixels: np.ndarray) -> str:
        """``src`` for an RGB uint8 array, saved as ``files_dir/name`` (PNG) unless embedded."""
        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, format="PNG")
        return self.data(name, buffer.getvalue())

    def data(self, name: str, data: bytes) -> str:
        """``src`` for an image file's bytes (a chip's JPEG), saved as ``files_dir/name`` unless embedded."""
        if self.embed:
            return data_uri(data, mimetypes.guess_type(name)[0] or "application/octet-stream")
        path = self.files_dir / name
        storage.write_files([path], [data])
        return self.url(path)


def data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
