"""A run folder records the weights raypipe ships when its extraction uses them, so that a run
resumed after they changed (raypipe upgraded between a killed run and its rerun) is refused
instead of mixing faces embedded by two heads."""

from __future__ import annotations

import pytest

import raypipe.pipeline.extract as extract_module
from raypipe.config import Config
from raypipe.layout import RunLayout
from raypipe.models.shipped import PACKAGE, shipped_weights_digest
from raypipe.pipeline.extract import RunMismatchError, _claim_folder


def _fake_package(root, detector_bytes: bytes):
    (root / "detect" / "weights").mkdir(parents=True)
    (root / "detect" / "weights" / "drawn_faces.onnx").write_bytes(detector_bytes)
    (root / "detect" / "code.py").write_text("# not a weight file\n")
    return root


def test_shipped_weights_digest_follows_the_weight_files_bytes_only(tmp_path):
    one = shipped_weights_digest(_fake_package(tmp_path / "one", b"weights v1"))
    same = shipped_weights_digest(_fake_package(tmp_path / "same", b"weights v1"))
    other = shipped_weights_digest(_fake_package(tmp_path / "other", b"weights v2"))
    assert one == same != other
    assert shipped_weights_digest(PACKAGE) not in (one, other)


def _claimed_with_a_finished_shard(tmp_path, config: Config, monkeypatch) -> RunLayout:
    layout = RunLayout.at(tmp_path / "run")
    layout.shards.mkdir(parents=True)
    monkeypatch.setattr(extract_module, "shipped_weights_digest", lambda: "weights-before-upgrade")
    _claim_folder(layout, config, overwrite=False)
    (layout.shards / "000000-aaaaaaaa.done.json").write_text("{}")
    monkeypatch.setattr(extract_module, "shipped_weights_digest", lambda: "weights-after-upgrade")
    return layout


@pytest.mark.parametrize("setting", ["extract.domain=comic", "extract.detector=drawn-faces"])
def test_a_run_extracted_with_other_shipped_weights_is_not_resumed_without_overwrite(tmp_path, monkeypatch, setting):
    config = Config()
    key, value = setting.removeprefix("extract.").split("=")
    setattr(config.extract, key, value)
    layout = _claimed_with_a_finished_shard(tmp_path, config, monkeypatch)
    with pytest.raises(RunMismatchError, match="other raypipe model weights"):
        _claim_folder(layout, config, overwrite=False)
    _claim_folder(layout, config, overwrite=True)
    assert not list(layout.shards.glob("*.done.json"))


def test_a_photo_run_is_resumed_whatever_the_shipped_weights(tmp_path, monkeypatch):
    config = Config()
    layout = _claimed_with_a_finished_shard(tmp_path, config, monkeypatch)
    _claim_folder(layout, config, overwrite=False)
    assert list(layout.shards.glob("*.done.json"))
