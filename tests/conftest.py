"""Shared fixtures: one local Ray for the whole session, paths to bundled and shared data.

Markers: ``shared`` (reads ../shared: skipped with a message when it is absent, and
:func:`need_shared` fails a test that reads it without the marker) and ``slow``. Under
``CI=true`` a skip is a failure unless its reason is in :data:`CI_ALLOWED_SKIPS`: CI installs
everything the suite needs (Chromium, the extras, ../shared, package registries).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLE_PHOTOS = REPO / "sample" / "photos"
SHARED = Path(os.environ.get("RAYPIPE_SHARED", REPO.parent / "shared"))
SHARED_DATA = SHARED / "data"
SHARED_MODELS = SHARED / "models"
ARCFACE_MODEL = SHARED_MODELS / "fr_feature.onnx"

# `embedder: auto` never downloads models in tests (tests marked `registry` fetch on purpose),
# and the default model root is an empty folder: the models a user fetched into ~/.raypipe/models
# must not change which detector or embedder `auto` picks in a test.
os.environ["RAYPIPE_AUTO_FETCH"] = "0"
os.environ["RAYPIPE_MODEL_ROOT"] = tempfile.mkdtemp(prefix="raypipe-test-models-")
atexit.register(shutil.rmtree, os.environ["RAYPIPE_MODEL_ROOT"], ignore_errors=True)


#: Skip reasons (substrings) that stay skips under CI=true: the CI machine has no GPU.
#: Skips that are no failure under CI=true: what cannot run on that machine. Tests needing
#: ../shared skip cleanly only where it is absent (a user's clone); where it is present, they run.
CI_ALLOWED_SKIPS = ("needs a GPU", "npm registry is unreachable") + (
    () if SHARED.exists() else ("the shared evaluation data/models beside the repo",)
)
_RUNNING: list[pytest.Item] = []  # the test being set up or run


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def need_shared(*parts: str) -> Path:
    """``../shared/<parts>``, or skip the test saying what is missing."""
    if _RUNNING and _RUNNING[-1].get_closest_marker("shared") is None:
        pytest.fail(f"{_RUNNING[-1].nodeid} reads ../shared but lacks @pytest.mark.shared")
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"needs {path} (the shared evaluation data/models beside the repo); absent here")
    return path


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    _RUNNING[:] = [item]
    if item.get_closest_marker("shared") and not SHARED.is_dir():
        pytest.skip(f"needs {SHARED} (the shared evaluation data/models beside the repo); absent here")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call):
    """Under CI=true, a skip whose reason is not in :data:`CI_ALLOWED_SKIPS` fails."""
    report = (yield).get_result()
    if report.skipped and in_ci() and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        if not any(allowed in reason for allowed in CI_ALLOWED_SKIPS):
            report.outcome = "failed"
            report.longrepr = f"skipped under CI=true, where it must run: {reason}"


#: Where the faceplugin models are fetched for tests when ../shared/models lacks them.
FACEPLUGIN_CACHE = Path(os.environ.get("RAYPIPE_CACHE", Path.home() / ".cache" / "raypipe")) / "test-models"


@pytest.fixture(scope="session")
def faceplugin_models() -> Path:
    """A folder with every model of ``raypipe models fetch``: ../shared/models when it has them
    all, else fetched once from the npm registry (``raypipe models fetch``) into a cache;
    skipped when the registry cannot be reached. Tests using it carry the ``registry`` marker."""
    from raypipe.models.fetch import DIGESTS, FetchError, fetch_models

    for root in (SHARED_MODELS, FACEPLUGIN_CACHE):
        if all((root / name).is_file() for name in DIGESTS):
            return root
    try:
        fetch_models(str(FACEPLUGIN_CACHE))
    except FetchError as err:
        pytest.skip(f"the npm registry is unreachable: cannot fetch the faceplugin models ({err})")
    return FACEPLUGIN_CACHE


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
