"""A hostile corpus made in the test runs to completion: every entry accounted for exactly once
(a row of images.parquet, or of errors.parquet with a reason), nothing written outside the run.

The corpus: good pages, a zip bomb entry (300 MB of zeros that compress to ~0.3 MB), entries
named ``../../x.jpg`` and ``/abs/x.jpg``, an archive inside the archive, a page in nested
folders, an encrypted entry, a symlink that points at itself, a symlinked folder loop, a file
that vanishes between listing and reading, and a 0-byte archive.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pandas as pd
import pytest

import raypipe.pipeline.extract as extract_module
from raypipe.cli import main
from tests.conftest import SAMPLE_PHOTOS

FACE_PHOTO = SAMPLE_PHOTOS / "obama" / "face_recognition_knn_train_obama.jpg"
BOMB_BYTES = 300 * 1024 * 1024


def _zip_bomb_entry(archive: zipfile.ZipFile, name: str) -> None:
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_DEFLATED
    chunk = bytes(1024 * 1024)
    with archive.open(info, "w", force_zip64=True) as entry:
        for _ in range(BOMB_BYTES // len(chunk)):
            entry.write(chunk)


def _mark_encrypted(path: Path, name: str) -> None:
    """Set the 'encrypted' flag of entry ``name`` (zipfile cannot write encrypted entries)."""
    data = bytearray(path.read_bytes())
    encoded = name.encode()
    for signature, flag_at, name_at in ((b"PK\x03\x04", 6, 30), (b"PK\x01\x02", 8, 46)):
        start = 0
        while (start := data.find(signature, start)) >= 0:
            if data[start + name_at : start + name_at + len(encoded)] == encoded:
                data[start + flag_at] |= 0x01
            start += 4
    path.write_bytes(bytes(data))


def _archive_of(page: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("inner_page.jpg", page)
    return buffer.getvalue()


def make_hostile_corpus(folder: Path, page: bytes) -> tuple[dict[str, str], Path]:
    """Write the corpus; returns input id -> expected outcome ('image' or 'error'), and the file
    to delete after listing."""
    folder.mkdir(parents=True)
    (folder / "good.jpg").write_bytes(page)
    (folder / "vanishes.jpg").write_bytes(page)
    (folder / "loop.jpg").symlink_to("loop.jpg")
    (folder / "sub").mkdir()
    (folder / "sub" / "up").symlink_to("..", target_is_directory=True)
    (folder / "empty.cbz").write_bytes(b"")
    archive_path = folder / "vol.cbz"
    with zipfile.ZipFile(archive_path, "w") as archive:
        archive.writestr("p1.jpg", page)
        archive.writestr("deep/er/p2.jpg", page)
        archive.writestr("../../x.jpg", page)
        archive.writestr("/abs/x.jpg", page)
        archive.writestr("inner.cbz", _archive_of(page))
        archive.writestr("secret.jpg", page)
        _zip_bomb_entry(archive, "bomb.jpg")
    _mark_encrypted(archive_path, "secret.jpg")
    assert archive_path.stat().st_size < 2 * 1024 * 1024  # the bomb compresses ~1000:1
    entries = {"p1.jpg": "image", "deep/er/p2.jpg": "image", "../../x.jpg": "error",
               "/abs/x.jpg": "error", "inner.cbz": "error", "secret.jpg": "error", "bomb.jpg": "error"}  # fmt: skip
    expected = {f"{archive_path}!{name}": outcome for name, outcome in entries.items()}
    for name, outcome in (("good.jpg", "image"), ("vanishes.jpg", "error"), ("loop.jpg", "error"), ("empty.cbz", "error")):
        expected[str(folder / name)] = outcome
    return expected, folder / "vanishes.jpg"


def _photo_outcomes(expected: dict[str, str], folder: Path) -> dict[str, str]:
    """The photo domain does not open archives: each archive is one skipped input."""
    outcomes = {uri: outcome for uri, outcome in expected.items() if "!" not in uri}
    outcomes[str(folder / "vol.cbz")] = "error"
    return outcomes


@pytest.fixture
def vanishing_after_listing(monkeypatch):
    """Delete a file right after the inputs are listed, before any worker reads it."""
    doomed: list[Path] = []
    real = extract_module.list_shards

    def list_then_delete(*args, **kwargs):
        listing = real(*args, **kwargs)
        for path in doomed:
            path.unlink()
        return listing

    monkeypatch.setattr(extract_module, "list_shards", list_then_delete)
    return doomed


def _assert_each_accounted_once(out: Path, expected: dict[str, str]) -> None:
    images = pd.read_parquet(out / "images.parquet")
    errors = pd.read_parquet(out / "errors.parquet")
    assert set(images.image_path) | set(errors.image_path) == set(expected)
    assert images.image_path.is_unique and errors.image_path.is_unique
    failed = set(images.image_path[images.status == "error"])
    for uri, outcome in expected.items():
        reason = errors.reason[errors.image_path == uri]
        if outcome == "image":
            assert uri in set(images.image_path) and uri not in failed and reason.empty, uri
        else:
            assert len(reason) == 1 and reason.iloc[0], (uri, reason)
            assert uri in failed or uri not in set(images.image_path), uri


def _run_hostile(tmp_path, vanishing, page: bytes, domain_args: list[str], comic: bool):
    inputs = tmp_path / "inputs"
    expected, doomed = make_hostile_corpus(inputs, page)
    vanishing.append(doomed)
    before = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))
    out = tmp_path / "run"
    assert main(["run", str(inputs), "--out", str(out), "--no-tracking", *domain_args]) == 0
    after = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if not p.is_relative_to(out))
    assert after == [p for p in before if p != str(doomed.relative_to(tmp_path))]  # nothing outside
    assert not (tmp_path.parent / "x.jpg").exists() and not Path("/abs/x.jpg").exists()
    _assert_each_accounted_once(out, expected if comic else _photo_outcomes(expected, inputs))
    return pd.read_parquet(out / "errors.parquet").set_index("image_path").reason


def test_hostile_corpus_comic_run_completes_and_accounts_for_every_entry(tmp_path, ray_session, vanishing_after_listing):
    args = ["--domain", "comic"]  # the shipped drawn-face detector: no model file needed
    reasons = _run_hostile(tmp_path, vanishing_after_listing, FACE_PHOTO.read_bytes(), args, comic=True)
    archive = tmp_path / "inputs" / "vol.cbz"
    assert "too large" in reasons[f"{archive}!bomb.jpg"]
    assert "encrypted" in reasons[f"{archive}!secret.jpg"]
    assert "unsafe" in reasons[f"{archive}!../../x.jpg"] and "unsafe" in reasons[f"{archive}!/abs/x.jpg"]
    assert "archive inside" in reasons[f"{archive}!inner.cbz"]
    assert "not a readable archive" in reasons[str(tmp_path / "inputs" / "empty.cbz")]


def test_hostile_corpus_photo_run_completes_and_accounts_for_every_file(tmp_path, ray_session, vanishing_after_listing):
    reasons = _run_hostile(tmp_path, vanishing_after_listing, FACE_PHOTO.read_bytes(), [], comic=False)
    assert "FileNotFoundError" in reasons[str(tmp_path / "inputs" / "vanishes.jpg")]
    assert "symbolic links" in reasons[str(tmp_path / "inputs" / "loop.jpg")]
