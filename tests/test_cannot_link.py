"""Cannot-link on real group photos: the default clusterer never puts two faces of one image together."""

import pandas as pd
import pytest

from raypipe.cli import main
from tests.conftest import need_shared


@pytest.mark.shared
def test_faces_of_one_photo_never_share_a_cluster(tmp_path, ray_session):
    groups = need_shared("data", "groups")
    photos = [p for p in sorted(groups.glob("*.jpg")) if "worlds-largest" not in p.name][:12]
    listing = tmp_path / "groups.txt"
    listing.write_text("\n".join(map(str, photos)))
    out = tmp_path / "run"
    assert main(["run", str(listing), "--out", str(out), "--no-tracking",
                 "--set", "cluster.clusterer.threshold=0.2"]) == 0  # fmt: skip
    clusters = pd.read_csv(out / "clusters.csv")
    assigned = clusters[clusters.cluster >= 0]
    assert len(assigned) >= 20 and assigned.image_path.nunique() >= 8
    # a loose threshold pulls different people together; cannot-link must still split each image
    per_image = assigned.groupby(["cluster", "image_path"]).size()
    assert per_image.max() == 1
    assert clusters.cluster.nunique() < len(clusters)  # faces across photos were still grouped
