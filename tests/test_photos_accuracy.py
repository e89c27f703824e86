"""The foundation's target on the 193 labelled photos of ../shared: NMI and BCubed F >= 0.97."""

import json

import pytest

from raypipe.cli import main
from tests.conftest import need_shared


@pytest.mark.shared
@pytest.mark.slow
def test_default_run_on_the_labelled_photos(tmp_path, ray_session):
    photos = need_shared("data", "photos")
    out = tmp_path / "run"
    assert main(["run", str(photos), "--out", str(out), "--labels", str(photos), "--no-tracking"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["images_scored"] == 193
    assert metrics["nmi"] >= 0.97 and metrics["bcubed_f"] >= 0.97, metrics
