"""MTCNN weight files: found in a cache folder, or taken once from the facenet-pytorch wheel.

The trained P-Net, R-Net and O-Net weights ship inside the ``facenet-pytorch`` wheel (MIT
licence) as ``facenet_pytorch/data/{pnet,rnet,onet}.pt``. That package pins old torch and numpy
releases, so raypipe never installs it: the wheel is downloaded without dependencies, the three
files are checked against known hashes and copied to the cache. Prefetch them (for a Docker
image or an offline cluster) with ``python -m raypipe.detect.weights [DIR]``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

log = logging.getLogger(__name__)

FACENET_PYTORCH_VERSION = "2.6.0"

#: sha256 of each weight file as shipped in facenet-pytorch 2.6.0.
MTCNN_SHA256 = {
    "pnet.pt": "a2a71925e0b9996a42f63e47efc1ca19043e69558b5c523b978d611dfae49c8f",
    "rnet.pt": "bbb937de72efc9ef83b186c49f5f558467a1d7e3453a8ece0d71a886633f6a86",
    "onet.pt": "165bfbe42940416ccfb977545cf0e976d5bf321f67083ae2aaaa5c764280118d",
}

#: Cache folder used when no ``weights_dir`` is given (``RAYPIPE_CACHE`` overrides the root).
DEFAULT_MTCNN_DIR = Path(os.environ.get("RAYPIPE_CACHE", Path.home() / ".cache" / "raypipe")) / "mtcnn"


def mtcnn_weights(weights_dir: str | Path | None = None, download: bool = True) -> dict[str, Path]:
    """Paths of ``pnet``, ``rnet`` and ``onet`` weights in ``weights_dir`` (fetched if absent).

    Raises ``FileNotFoundError`` when a file is missing and ``download`` is false, and
    ``RuntimeError`` when the wheel cannot be downloaded (no network, no pip).
    """
    folder = Path(weights_dir).expanduser() if weights_dir else DEFAULT_MTCNN_DIR
    paths = {name.removesuffix(".pt"): folder / name for name in MTCNN_SHA256}
    missing = [p for p in paths.values() if not p.is_file()]
    if missing and not download:
        raise FileNotFoundError(f"MTCNN weights missing: {', '.join(map(str, missing))}")
    if missing:
        fetch_mtcnn_weights(folder)
    return paths


def fetch_mtcnn_weights(folder: Path) -> None:
    """Download the facenet-pytorch wheel (no dependencies) and copy its MTCNN files to ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        wheel = _download_wheel(Path(tmp))
        with zipfile.ZipFile(wheel) as archive:
            for name, digest in MTCNN_SHA256.items():
                data = archive.read(f"facenet_pytorch/data/{name}")
                actual = hashlib.sha256(data).hexdigest()
                if actual != digest:
                    raise RuntimeError(f"{wheel.name}:{name} has sha256 {actual}, expected {digest}")
                _write_atomically(folder / name, data)
    log.info("MTCNN weights from facenet-pytorch %s saved in %s", FACENET_PYTORCH_VERSION, folder)


def _download_wheel(target: Path) -> Path:
    requirement = f"facenet-pytorch=={FACENET_PYTORCH_VERSION}"
    log.info("fetching MTCNN weights: pip download --no-deps %s", requirement)
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               requirement, "-d", str(target)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    wheels = sorted(target.glob("facenet_pytorch-*.whl"))
    if result.returncode != 0 or not wheels:
        raise RuntimeError(
            f"could not download {requirement} for its MTCNN weights "
            f"(pip exit {result.returncode}): {result.stderr.strip()[-500:]}"
        )
    return wheels[0]


def _write_atomically(path: Path, data: bytes) -> None:
    """Write via a temporary file and rename, so concurrent workers never read half a file."""
    with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as tmp:
        tmp.write(data)
    os.replace(tmp.name, path)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    for path in mtcnn_weights(sys.argv[1] if len(sys.argv) > 1 else None).values():
        print(path)
