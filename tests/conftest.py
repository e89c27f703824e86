"""Shared fixtures: one local Ray for the whole session, paths to bundled and shared data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLE_PHOTOS = REPO / "sample" / "photos"
SHARED = Path(os.environ.get("RAYPIPE_SHARED", REPO.parent / "shared"))
SHARED_DATA = SHARED / "data"
SHARED_MODELS = SHARED / "models"
ARCFACE_MODEL = SHARED_MODELS / "fr_feature.onnx"

# `embedder: auto` never downloads models in tests (tests marked `registry` fetch on purpose).
os.environ["RAYPIPE_AUTO_FETCH"] = "0"


def need_shared(*parts: str) -> Path:
    """``../shared/<parts>``, or skip the test saying what is missing."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"needs {path} (the shared evaluation data/models beside the repo); absent here")
    return path


@pytest.fixture(scope="session")
def ray_session():
    """One local Ray instance for every test that needs it (ray.init costs 5-10 s)."""
    import ray

    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.fixture(autouse=True)
def _no_mlflow_in_cwd(tmp_path, monkeypatch):
    """Tests never write mlflow.db into the repository: the tracking store lives in tmp_path."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory, ray_session):
    """The bundled sample extracted and clustered once (dlib), shared by read-only tests."""
    from raypipe.cli import main

    out = tmp_path_factory.mktemp("sample") / "run"
    code = main(["run", str(SAMPLE_PHOTOS), "--out", str(out), "--labels", str(SAMPLE_PHOTOS), "--no-tracking"])
    assert code == 0
    return out
