"""On the shared photos: corrections made with ``raypipe correct`` fix what a clusterer got wrong."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from raypipe.cli import main
from raypipe.evaluation.metrics import score_clustering
from tests.conftest import need_shared
from tests.test_corrections import clusters

#: Four photos each of eight people, three of them women of similar looks.
PEOPLE = ["angelina_jolie", "katy_perry", "scarlett_johansson", "jennifer_aniston",
          "steve_wozniak", "paul_allen", "matt_damon", "mark_zuckerberg"]  # fmt: skip
CLUSTERERS = {
    "mixes": "{name: kmeans, n_clusters: 6}",  # two clusters fewer than people: three women in one
    "splits": "{name: agglomerative, threshold: 0.04}",  # half the same-person distance: people split
}


@pytest.fixture(scope="module")
def extracted(tmp_path_factory, ray_session):
    photos = need_shared("data", "photos")
    folder = tmp_path_factory.mktemp("corrections_photos")
    listing = folder / "photos.txt"
    listing.write_text(
        "\n".join(str(p) for person in PEOPLE for p in sorted((photos / person).glob("*"))[:4])
    )
    assert main(["extract", str(listing), "--out", str(folder / "run"), "--no-tracking"]) == 0
    return folder / "run"


def correct_by_hand(run: Path) -> set[str]:
    """What a user reading the report does; returns the people whose clusters were wrong.

    Each face in a cluster of another person: ``not FACE CLUSTER``. Each person spread over several
    clusters: ``merge`` their largest cluster with the others and with their faces found elsewhere.
    """
    table = clusters(run)
    majority = table.groupby("cluster").folder.agg(lambda f: f.mode()[0])
    strays = table[table.folder != table.cluster.map(majority)]
    for face, cluster in zip(strays.face_id, strays.cluster):
        assert main(["correct", str(run), "not", face, str(cluster)]) == 0
    wrong = set(strays.folder) | set(majority[majority.index.isin(strays.cluster)])
    for person, faces in table.groupby("folder"):
        homes = (
            faces[faces.cluster.map(majority) == person]
            .cluster.value_counts()
            .index.astype(str)
            .tolist()
        )
        elsewhere = faces[faces.cluster.map(majority) != person].face_id.tolist()
        words = homes + elsewhere
        if len(words) > 1:
            assert main(["correct", str(run), "merge", *words]) == 0
            wrong.add(person)
    return wrong


@pytest.mark.slow
@pytest.mark.shared
@pytest.mark.parametrize("error", sorted(CLUSTERERS))
def test_corrections_fixing_mixed_or_split_clusters_bring_bcubed_f_to_one_for_those_people(
    extracted, tmp_path, error
):
    run = Path(shutil.copytree(extracted, tmp_path / "run"))
    setting = f"cluster.clusterer={CLUSTERERS[error]}"
    assert main(["cluster", str(run), "--set", setting, "--no-tracking"]) == 0
    before = clusters(run)
    wrong = correct_by_hand(run)
    assert len(wrong) >= 3
    assert main(["cluster", str(run), "--set", setting, "--no-tracking"]) == 0
    after = clusters(run)
    scores = {}
    for name, table in (("before", before), ("after", after)):
        theirs = table[table.folder.isin(wrong)]
        scores[name] = score_clustering(theirs.folder.to_numpy(), theirs.cluster.to_numpy())[
            "bcubed_f"
        ]
    assert scores["before"] < 0.9 and scores["after"] == 1.0, scores
    overall = score_clustering(after.folder.to_numpy(), after.cluster.to_numpy())
    assert overall["bcubed_f"] == 1.0, overall  # and nobody else was disturbed
