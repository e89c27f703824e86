"""The default run on labelled photos of people the thresholds were NOT fitted on.

``bench/cluster_calibrate.py`` fits the thresholds on the ``fit`` identities of the labelled sets
(``raypipe.evaluation.protocol``); this test runs on the other half of ../shared/data/photos.
"""

import json
import shutil

import pytest

from raypipe.cli import main
from raypipe.evaluation.protocol import identity_side
from tests.conftest import need_shared


@pytest.mark.shared
@pytest.mark.slow
def test_default_run_on_held_out_identities_of_the_labelled_photos(tmp_path, ray_session):
    photos = need_shared("data", "photos")
    held_out = tmp_path / "photos"
    for person in sorted(p for p in photos.iterdir() if p.is_dir()):
        if identity_side(person.name) == "held_out":
            shutil.copytree(person, held_out / person.name)
    out = tmp_path / "run"
    assert main(["run", str(held_out), "--out", str(out), "--labels", str(held_out), "--no-tracking"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["images_scored"] >= 80
    assert metrics["nmi"] >= 0.95 and metrics["bcubed_f"] >= 0.95, metrics
