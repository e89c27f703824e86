"""``raypipe correct`` on the bundled sample: names that survive re-clustering, tuning and ``--into``."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from raypipe.cli import main
from tests.conftest import SAMPLE_PHOTOS
from tests.test_incremental import old_and_new  # noqa: F401 (fixture: the sample split in two runs)
from tests.test_tracking import artifacts, runs_in, store


@pytest.fixture
def run(sample_run, tmp_path):
    """A private copy of the clustered sample run."""
    return Path(
        shutil.copytree(
            sample_run, tmp_path / "run", ignore=shutil.ignore_patterns("clustered_faces")
        )
    )


def clusters(run: Path) -> pd.DataFrame:
    table = pd.read_csv(run / "clusters.csv", keep_default_na=False, na_values={"cluster": []})
    return table.assign(folder=table.image_path.map(lambda p: Path(p).parent.name))


def name_every_cluster(run: Path) -> dict[str, set[str]]:
    """``raypipe correct RUN name C FOLDER`` for every cluster (its majority folder); returns faces by name."""
    table = clusters(run)
    named = {}
    for cluster, faces in table[table.cluster >= 0].groupby("cluster"):
        person = faces.folder.mode()[0].replace("_", " ").title()
        if person in named:
            continue  # a person split in two: the larger part is named
        assert main(["correct", str(run), "name", str(cluster), person]) == 0
        named[person] = set(faces.face_id)
    return named


def people(run: Path) -> dict[str, tuple[set[int], set[str]]]:
    """Per person of clusters.csv: its cluster ids and faces."""
    table = clusters(run)
    return {
        p: (set(g.cluster), set(g.face_id)) for p, g in table[table.person != ""].groupby("person")
    }


@pytest.mark.parametrize("clusterer", [
    "{name: kmeans, n_clusters: 3}",  # fewer clusters than people: it merges people
    "{name: agglomerative, threshold: 0.01}",  # far below the same-person distance: it splits them
])  # fmt: skip
def test_a_recluster_with_another_clusterer_keeps_every_name_and_cluster_id(
    run, tmp_path, clusterer
):
    before = clusters(run).set_index("face_id").cluster
    named = name_every_cluster(run)
    assert main(["cluster", str(run)]) == 0
    ids = {person: ids for person, (ids, _) in people(run).items()}
    assert ids == {person: set(before[list(faces)]) for person, faces in named.items()}
    assert main(["cluster", str(run), "--set", f"cluster.clusterer={clusterer}"]) == 0
    after = people(run)
    assert set(after) == set(named)
    for person, faces in named.items():
        assert after[person][0] == ids[person]  # the same single cluster id
        assert faces <= after[person][1]  # with every face it was named on
    recorded = runs_in(store(tmp_path))["cluster"]
    assert len(recorded) == 2 and all(
        "corrections.yaml" in artifacts(store(tmp_path), r) for r in recorded
    )


def test_tune_then_its_best_config_keeps_every_name(run, tmp_path):
    named = name_every_cluster(run)
    assert main(["cluster", str(run), "--no-tracking"]) == 0
    ids = {person: ids for person, (ids, _) in people(run).items()}
    space = tmp_path / "space.yaml"
    space.write_text(yaml.safe_dump({"clusterer": {"kmeans": {"n_clusters": {"choice": [3, 5]}}}}))
    assert main(["tune", str(run), "--space", str(space), "--search", "grid", "--labels", str(SAMPLE_PHOTOS),
                 "--no-tracking"]) == 0  # fmt: skip
    assert (
        main(
            [
                "cluster",
                str(run),
                "--config",
                str(run / "tune" / "best_config.yaml"),
                "--no-tracking",
            ]
        )
        == 0
    )
    after = people(run)
    assert {person: ids for person, (ids, _) in after.items()} == ids
    assert all(faces <= after[person][1] for person, faces in named.items())


def test_into_carries_names_to_the_new_faces_of_each_person(old_and_new):  # noqa: F811
    old, new = old_and_new
    named = name_every_cluster(old)
    assert main(["cluster", str(old), "--no-tracking"]) == 0
    assert main(["cluster", str(new), "--into", str(old), "--no-tracking"]) == 0
    joined = clusters(new)
    known = joined[joined.folder.map(lambda f: f.replace("_", " ").title()).isin(named)]
    expected = known.folder.map(lambda f: f.replace("_", " ").title())
    assert len(known) >= 15 and (known.person == expected).mean() >= 0.9, known[
        ["folder", "person", "cluster"]
    ]
    newcomer = joined[~joined.index.isin(known.index)]
    assert len(newcomer) and (newcomer.person == "").all()  # nobody named them
    assert (new / "suggestions.csv").exists()


def test_a_merge_and_a_not_on_the_same_pair_are_refused_naming_both(run, capsys):
    table = clusters(run)
    first, second = table[table.cluster >= 0].cluster.value_counts().index[:2]
    face = table[table.cluster == first].face_id.iloc[0]
    assert main(["correct", str(run), "merge", str(first), str(second)]) == 0
    capsys.readouterr()
    assert main(["correct", str(run), "not", face, str(second)]) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1
    assert f"`not {face} {second}`" in error and f"`merge {first} {second}`" in error
    # the same contradiction written by hand stops the clustering with the same message
    corrections = yaml.safe_load((run / "corrections.yaml").read_text())
    other = table[table.cluster == second].face_id.tolist()
    corrections["not"] = [{"face": face, "not_with": other, "made_by": f"not {face} {second}"}]
    (run / "corrections.yaml").write_text(yaml.safe_dump(corrections))
    assert main(["cluster", str(run), "--no-tracking"]) == 2
    assert f"`merge {first} {second}`" in capsys.readouterr().err


def test_a_correction_naming_an_unknown_face_or_cluster_is_refused_with_its_id(run, capsys):
    for argv, wrong in ((["not", "0123456789abcdef_000", "0"], "0123456789abcdef_000"),
                        (["ignore", "nosuchface_007"], "nosuchface_007"), (["merge", "0", "999"], "999")):  # fmt: skip
        assert main(["correct", str(run), *argv]) == 2
        error = capsys.readouterr().err
        assert wrong in error and "Traceback" not in error
    assert not (run / "corrections.yaml").exists()  # nothing recorded
    (run / "corrections.yaml").write_text(yaml.safe_dump({"ignore": ["feedfacefeedface_000"]}))
    assert main(["cluster", str(run), "--no-tracking"]) == 2
    assert "feedfacefeedface_000" in capsys.readouterr().err


def test_a_face_said_not_to_be_its_person_is_suggested_and_the_report_shows_names_and_commands(run):
    named = name_every_cluster(run)
    person = max(named, key=lambda p: len(named[p]))
    cluster = int(clusters(run).set_index("face_id").cluster[next(iter(named[person]))])
    face = min(named[person])
    assert main(["correct", str(run), "not", face, str(cluster)]) == 0
    assert main(["cluster", str(run), "--no-tracking"]) == 0
    after = clusters(run).set_index("face_id")
    assert after.cluster[face] != cluster and after.person[face] == ""
    suggestions = pd.read_csv(run / "suggestions.csv").set_index("face_id")
    assert suggestions.person[face] == person  # still nearest to the person it was taken from
    assert not suggestions.index.isin(
        after.index[after.person != ""]
    ).any()  # named faces need no suggestion
    assert main(["report", str(run), "--no-tracking"]) == 0
    html = (run / "report.html").read_text(encoding="utf-8")
    assert f'<span class="person">{person}</span>' in html
    assert f'data-copy="raypipe correct {run} name {cluster} &#39;{person}&#39;"' in html
    assert (
        f'data-copy="raypipe correct {run} name {face} &#39;{person}&#39;"' in html
    )  # accept the suggestion
    for other in after.index[
        after.cluster == cluster
    ]:  # every face of the cluster (under the caps)
        assert f'data-copy="raypipe correct {run} not {other} {cluster}"' in html
