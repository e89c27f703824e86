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


def test_cannot_link_is_per_photo_and_per_panel_of_a_comic_page():
    import numpy as np

    from raypipe.cluster.step import cluster_inputs

    faces = pd.DataFrame({
        "image_id": ["photo", "photo", "page", "page", "page"],
        "panel_index": [-1, -1, 0, 1, 1],
        "embedding": [np.ones(4, np.float32)] * 5,
    })  # fmt: skip
    groups = cluster_inputs(None, faces, np.ones(5, bool), None).groups
    assert groups[0] == groups[1]  # two faces of one photo: two people
    assert groups[2] != groups[3]  # one character in two panels of a page may be one cluster
    assert groups[3] == groups[4]  # two faces of one panel: two characters


def test_cannot_link_of_a_table_without_panels_is_per_image():
    import numpy as np

    from raypipe.cluster.step import cluster_inputs

    faces = pd.DataFrame({"image_id": ["a", "a", "b"], "embedding": [np.ones(4, np.float32)] * 3})
    assert list(cluster_inputs(None, faces, np.ones(3, bool), None).groups) == ["a", "a", "b"]


def test_faces_outside_every_panel_of_a_page_are_not_kept_apart():
    """Two faces outside the panels of one page may be one character drawn in two unboxed
    pictures: each is a cannot-link group of its own, apart from the panels' groups too."""
    import numpy as np

    from raypipe.cluster.step import cannot_link_groups
    from raypipe.ids import OUTSIDE_PANELS

    faces = pd.DataFrame({
        "image_id": ["page", "page", "page", "page", "photo", "photo"],
        "panel_index": [0, 0, OUTSIDE_PANELS, OUTSIDE_PANELS, -1, -1],
    })  # fmt: skip
    groups = cannot_link_groups(faces)
    assert groups[0] == groups[1] and groups[4] == groups[5]
    assert len(set(groups[[0, 2, 3]])) == 3
    assert np.array_equal(groups, cannot_link_groups(faces))  # the same on every call
