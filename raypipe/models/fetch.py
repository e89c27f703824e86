"""The ONNX models of the npm package ``faceplugin-face-recognition-js@0.0.1``: obtained with the
user's own npm client (``npm pack``) or from a tarball the user has, each file checked against a
SHA-256 recorded here, then installed under the model root. raypipe never ships these weights."""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import posixpath
import shutil
import subprocess
import tarfile
import tempfile
import zlib
from pathlib import Path

from raypipe.errors import UsageError
from raypipe.models import find_model, model_root

log = logging.getLogger(__name__)

PACKAGE = "faceplugin-face-recognition-js@0.0.1"
#: Folder of the models inside the package tarball.
MEMBER_DIR = "package/model"
#: SHA-256 of each model file of :data:`PACKAGE`; a file that differs is refused.
DIGESTS = {
    "fr_feature.onnx": "87aacdfe57510db2af90c0251df680e8eec88f122ee94712121d09bcaaaf3581",
    "fr_detect.onnx": "6c0256ccd3164f844736a401faf936ec2930764a87ae39442180887d0c5c8854",
    "fr_landmark.onnx": "f10b0ba1d2a8a099adefede1ebf3733e44fe370715e7303dbeb7f59c02142258",
    "fr_expression.onnx": "88959314d9dc14d6c968cca31dc068e4350bf1944154e3bdd2eece5d0f318d05",
}
#: Left under the model root when an automatic fetch failed, so that later runs do not retry.
FAILED_MARKER = ".auto-fetch-failed"
NPM_TIMEOUT_S = 600


class FetchError(UsageError):
    """The models could not be obtained, or a file failed its check; the message says why."""


def fetch_models(configured_root: str | None, tarball: str | None = None) -> dict[str, Path]:
    """Install every file of :data:`DIGESTS` under the model root, from ``tarball`` or from
    ``npm pack``; returns where each one now is. Nothing is installed unless all pass."""
    root = model_root(configured_root)
    with tempfile.TemporaryDirectory(prefix="raypipe-npm-") as workdir:
        source = Path(tarball).expanduser() if tarball else npm_pack(PACKAGE, Path(workdir))
        installed = install_from_tarball(source, root)
    (root / FAILED_MARKER).unlink(missing_ok=True)
    return installed


def npm_pack(spec: str, workdir: Path) -> Path:
    """The tarball of the npm package ``spec``, downloaded into ``workdir`` by ``npm pack``."""
    npm = shutil.which("npm")
    if npm is None:
        raise FetchError("npm not found on PATH: install Node.js (npm), or pass --tarball with the package's .tgz")
    log.info("npm pack %s (in %s)", spec, workdir)
    try:
        done = subprocess.run(
            [npm, "pack", spec, "--fetch-retries=1", "--fetch-timeout=60000"],
            cwd=workdir, capture_output=True, text=True, timeout=NPM_TIMEOUT_S, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        raise FetchError(f"npm pack {spec} gave no answer within {NPM_TIMEOUT_S} s (offline?)") from None
    tarballs = sorted(workdir.glob("*.tgz"))
    if done.returncode != 0 or len(tarballs) != 1:
        errors = [line for line in done.stderr.splitlines() if "ERR" in line.upper()] or done.stderr.splitlines()
        detail = " ".join(line.strip() for line in errors[:3]) or "no message"
        raise FetchError(f"npm pack {spec} failed (exit {done.returncode}): {detail}")
    return tarballs[0]


def install_from_tarball(tarball: Path, root: Path) -> dict[str, Path]:
    """Check the archive's entries, stage each model beside its destination, verify every
    digest, then move them all into place (``os.replace``: a file is whole or absent)."""
    if not tarball.is_file():
        raise FetchError(f"no package tarball at {tarball}")
    staged: dict[str, Path] = {}
    try:
        with tarfile.open(tarball, "r:*") as archive:
            members = model_members(archive, tarball)
            root.mkdir(parents=True, exist_ok=True)
            for name, member in members.items():
                staged[name] = stage_verified(archive, member, root, name)
        installed = {}
        for name, part in staged.items():
            os.replace(part, root / name)
            installed[name] = root / name
        return installed
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as err:
        raise FetchError(f"{tarball} is not a readable package tarball: {err}") from None
    finally:
        for part in staged.values():
            part.unlink(missing_ok=True)


def model_members(archive: tarfile.TarFile, tarball: Path) -> dict[str, tarfile.TarInfo]:
    """The archive's entry for each model file; the whole archive is refused when any entry is
    a link, a device, or a path that would land outside the folder it is unpacked in."""
    wanted = {f"{MEMBER_DIR}/{name}": name for name in DIGESTS}
    found = {}
    for member in archive.getmembers():
        name = posixpath.normpath(member.name.replace("\\", "/"))
        if name.startswith(("/", "../")) or name == "..":
            raise FetchError(f"{tarball}: entry {member.name!r} escapes the package folder; archive refused")
        if not (member.isfile() or member.isdir()):
            raise FetchError(f"{tarball}: entry {member.name!r} is a link or special file; archive refused")
        if name in wanted:
            found[wanted[name]] = member
    missing = sorted(set(DIGESTS) - set(found))
    if missing:
        raise FetchError(f"{tarball}: no {', '.join(missing)} under {MEMBER_DIR}/ (not the {PACKAGE} package?)")
    return found


def stage_verified(archive: tarfile.TarFile, member: tarfile.TarInfo, root: Path, name: str) -> Path:
    """``member`` copied to a hidden file in ``root``; refused (and removed) unless its SHA-256
    is the recorded one."""
    fd, part = tempfile.mkstemp(dir=root, prefix=f".{name}.", suffix=".part")
    digest = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as out, archive.extractfile(member) as source:
            while chunk := source.read(1 << 20):
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(part, 0o644)  # readable like any installed file (mkstemp makes it private)
        if digest.hexdigest() != DIGESTS[name]:
            raise FetchError(
                f"{name}: SHA-256 {digest.hexdigest()} differs from the recorded {DIGESTS[name]}; not installed"
            )
    except BaseException:
        Path(part).unlink(missing_ok=True)
        raise
    return Path(part)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def inventory(configured_root: str | None) -> list[tuple[str, Path | None, str]]:
    """``(file name, where it is, state)`` for each model of :data:`PACKAGE`; the state is
    ``ok``, ``missing`` or ``SHA-256 differs from the recorded one``."""
    rows = []
    for name, expected in DIGESTS.items():
        path = find_model(name, configured_root)
        state = "missing" if path is None else "ok" if sha256_of(path) == expected else "SHA-256 differs from the recorded one"
        rows.append((name, path, state))
    return rows
