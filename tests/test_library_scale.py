"""bench/library_scale.py at CI size: a library twice as big at the same shard count leaves as many
files in the run folder, and costs about as many object-store requests per step (moto on loopback)."""

from __future__ import annotations

import json

import pytest

from bench.library_scale import BUCKET, S3Server, make_library, measure
from tests.conftest import REPO

pytestmark = pytest.mark.slow

SIZES = (8, 16)
SHARDS = 2


def test_run_folder_files_and_requests_per_step_follow_the_shards_not_the_faces(tmp_path):
    s3 = S3Server(tmp_path)
    try:
        steps, faces = {}, {}
        for images in SIZES:
            photos = tmp_path / f"photos-{images}"
            make_library(photos, images)
            rows = measure(photos, images, SHARDS, REPO, tmp_path, s3, steps=("run", "recluster"))
            steps[images] = {row["step"]: row for row in rows}
            summary = s3.client.get_object(Bucket=BUCKET, Key=f"{REPO.name}-{images}/summary.json")["Body"].read()
            faces[images] = json.loads(summary)["extract"]["faces"]
    finally:
        s3.close()
    small, large = (steps[n] for n in SIZES)
    assert faces[SIZES[1]] >= 2 * faces[SIZES[0]] - 1 and faces[SIZES[0]] >= SIZES[0] - 1  # the detector finds them
    for step in ("run", "recluster"):
        # the report's images are capped by the report (galleries x chips), not by the run's size
        assert large[step]["files"] - large[step]["report_files"] == small[step]["files"] - small[step]["report_files"]
        assert large[step]["requests"] <= 1.25 * small[step]["requests"], (step, small[step], large[step])
    assert large["recluster"]["files"] <= large["run"]["files"] + 1  # suggestions.csv, no file per face
