"""A re-cluster reads the k-NN table of the clustering before (``RUN/neighbours/``) when its faces
and search settings are unchanged, and searches again when they changed or the table is damaged."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from raypipe.cluster import ivf, knn
from raypipe.cluster.neighbour_store import RunNeighbourStore
from raypipe.cluster.step import cluster_run
from raypipe.config import Config
from raypipe.layout import RunLayout
from raypipe.pipeline.shards import write_shard
from raypipe.testing.realistic_faces import make_realistic_faces
from raypipe.testing.synthetic_run import MODEL, placeholder_chips, shard_work, write_synthetic_run

FACES = 1500


@pytest.fixture
def run(tmp_path):
    """A synthetic run of 1,500 faces in 3 shards."""
    write_synthetic_run(tmp_path / "run", FACES, shard_size=500)
    return tmp_path / "run"


@pytest.fixture
def searches(monkeypatch):
    """The approximate searches run (the stored table spares them), by row count."""
    found = []
    search = knn._search

    def counted(X, queries, wanted, method, seed):
        if method != "exact":
            found.append(len(X))
        return search(X, queries, wanted, method, seed)

    monkeypatch.setattr(knn, "_search", counted)
    return found


def ivf_config() -> Config:
    """The default clusterer on its IVF path, as above 20k faces."""
    config = Config()
    config.cluster.clusterer = {"name": "auto", "exact_limit": 100}
    return config


def clusters(run) -> np.ndarray:
    return pd.read_parquet(run / "clusters.parquet")["cluster"].to_numpy()


def test_a_recluster_of_an_unchanged_run_reads_the_saved_neighbours_and_finds_the_same_clusters(
    run, searches, caplog
):
    cluster_run(str(run), ivf_config())
    first = clusters(run)
    assert searches == [FACES]
    files = sorted(p.name for p in (run / "neighbours").iterdir())
    assert files[-1] == "manifest.json" and len(files) == 2  # one part of 1,500 rows
    with caplog.at_level(logging.INFO, logger="raypipe.cluster.neighbour_store"):
        cluster_run(str(run), ivf_config())
    assert searches == [FACES]  # no second search
    assert "reusing the neighbours of 1500 faces" in caplog.text
    np.testing.assert_array_equal(clusters(run), first)


def test_a_run_with_an_added_shard_searches_again_and_replaces_the_saved_table(run, searches):
    cluster_run(str(run), ivf_config())
    data = make_realistic_faces(200, 128, seed=9)
    rows = np.arange(FACES, FACES + 200)
    work = shard_work("000003", rows, data.X, placeholder_chips(32, 0), 32)
    write_shard(RunLayout.at(run), work, {"detector": "synthetic", "embedder": MODEL}, save_chips=True, node="t")  # fmt: skip
    cluster_run(str(run), ivf_config())
    assert searches == [FACES, FACES + 200]
    files = list((run / "neighbours").iterdir())
    assert len(files) == 2  # the earlier table's part removed
    assert '"rows": 1700' in (run / "neighbours" / "manifest.json").read_text()


def test_a_damaged_or_half_written_table_is_ignored_with_a_warning_and_searched_again(
    run, searches, caplog
):
    cluster_run(str(run), ivf_config())
    first = clusters(run)
    part = next((run / "neighbours").glob("*.parquet"))
    part.write_bytes(part.read_bytes()[: part.stat().st_size // 2])  # a part cut short
    with caplog.at_level(logging.WARNING, logger="raypipe.cluster.neighbour_store"):
        cluster_run(str(run), ivf_config())
    assert "does not match its checksum" in caplog.text
    assert searches == [FACES, FACES]
    np.testing.assert_array_equal(clusters(run), first)
    (run / "neighbours" / "manifest.json").write_text('{"fingerprint": ')  # a manifest cut short
    cluster_run(str(run), ivf_config())
    cluster_run(str(run), ivf_config())  # rewritten whole: read again
    assert searches == [FACES, FACES, FACES]


def test_fingerprint_follows_the_vectors_their_order_and_the_search_settings_codes_and_refinement_included(monkeypatch):
    X = make_realistic_faces(300, 32, seed=1).X

    def fingerprint(X, k=10, method="ivf"):
        return knn.search_fingerprint(X, knn.search_settings(X, k, method, 0))

    base = fingerprint(X)
    assert fingerprint(X.copy()) == base
    changed = X.copy()
    changed[7, 3] += 1e-3
    assert len({base, fingerprint(changed), fingerprint(X[::-1]), fingerprint(X[:-1])}) == 4
    assert len({base, fingerprint(X, k=11), fingerprint(X, method="hnsw")}) == 3
    monkeypatch.setattr(ivf, "IVF_PROBES", 64)
    probes = fingerprint(X)
    monkeypatch.setattr(ivf, "IVF_CODES", "flat")  # float32 lists: another search
    flat = fingerprint(X)
    monkeypatch.setattr(ivf, "REFINE_ROUNDS", ivf.REFINE_ROUNDS + 1)  # refined again: another
    assert len({base, probes, flat, fingerprint(X)}) == 4


def test_an_exact_search_is_not_stored(tmp_path):
    write_synthetic_run(tmp_path / "run", 600, shard_size=300)
    cluster_run(str(tmp_path / "run"), Config())  # 600 faces: exact k-NN
    assert not (tmp_path / "run" / "neighbours").exists()


def test_an_object_store_run_keeps_one_table_and_reads_it_back(tmp_path):
    store = RunNeighbourStore(RunLayout.at(f"memory://neighbour-store/{tmp_path.name}"))
    saved = knn.Neighbours(np.arange(30).reshape(10, 3), np.linspace(0, 1, 30, dtype=np.float32).reshape(10, 3))
    store.save("ab" * 32, saved, {"k": 3})
    store.save("cd" * 32, saved, {"k": 3})
    assert [p.name for p in store.folder.glob("*")] == ["cdcdcdcdcdcdcdcd-00000.parquet", "manifest.json"]
    assert store.load("ab" * 32) is None
    found = store.load("cd" * 32)
    np.testing.assert_array_equal(found.indices, saved.indices)
    np.testing.assert_array_equal(found.distances, saved.distances)
