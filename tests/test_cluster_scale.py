"""The large-set clustering path: embeddings streamed into a memmap, k-NN in Ray tasks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from raypipe.cluster import knn_shards
from raypipe.cluster.auto import AutoClusterer
from raypipe.cluster.calibration import CALIBRATION
from raypipe.cluster.knn import nearest_neighbours
from raypipe.cluster.step import CLUSTER_COLUMNS, cluster_inputs, load_faces
from raypipe.cluster.stream import stream_embeddings
from raypipe.evaluation.metrics import contingency, pairwise_scores
from raypipe.layout import RunLayout
from raypipe.testing.realistic_faces import make_realistic_faces


@pytest.fixture(scope="module")
def faces():
    return make_realistic_faces(3000, 64, seed=5)


@pytest.fixture
def small_shards(monkeypatch):
    """Shards and add blocks of a few hundred rows, so a small set spans several of each."""
    monkeypatch.setattr(knn_shards, "SHARD_ROWS", 700)
    monkeypatch.setattr(knn_shards, "ADD_BLOCK", 1100)


def recall(found: np.ndarray, exact: np.ndarray) -> float:
    return float(np.mean([len(set(a) & set(b)) / len(b) for a, b in zip(found, exact)]))


def test_sharded_knn_probing_every_cell_equals_the_exact_knn(ray_session, small_shards, faces):
    sims, idx = knn_shards.sharded_ivf_search(faces.X, 6, probes=10**6)
    exact = nearest_neighbours(faces.X, 6, queries=faces.X, method="exact")
    assert recall(idx, exact.indices) == 1.0
    np.testing.assert_allclose(sims, 1.0 - exact.distances, atol=1e-5)


def test_sharded_knn_with_default_probes_finds_095_of_the_same_person_neighbours_at_exact_distances(
    ray_session, small_shards, faces
):
    found = nearest_neighbours(faces.X, 5, method="ivf-shards")
    exact = nearest_neighbours(faces.X, 5, method="exact")
    assert found.indices.shape == (len(faces.X), 5)
    assert not (found.indices == np.arange(len(faces.X))[:, None]).any()  # itself excluded
    exact_of_found = 1.0 - np.einsum("qd,qkd->qk", faces.X, faces.X[found.indices])
    np.testing.assert_allclose(found.distances, exact_of_found, atol=1e-6)  # float16 re-scored
    in_process = nearest_neighbours(faces.X, 5, method="ivf")
    assert np.mean([set(a) == set(b) for a, b in zip(found.indices, in_process.indices)]) >= 0.999
    close = exact.distances <= CALIBRATION["arcface-512"].average  # the edges the graph keeps
    hits = [
        np.isin(e[c], f).mean() for e, c, f in zip(exact.indices, close, found.indices) if c.any()
    ]
    assert np.mean(hits) >= 0.95


def write_faces_dataset(root, X: np.ndarray, missing: np.ndarray) -> RunLayout:
    """A run whose faces table is three Parquet files; rows in ``missing`` have no embedding."""
    layout = RunLayout.at(root)
    layout.faces.mkdir(parents=True)
    n = len(X)
    table = pd.DataFrame(
        {
            "face_id": [f"f{i:05d}" for i in range(n)],
            "image_id": [f"i{i // 2:05d}" for i in range(n)],
            "image_path": [f"img{i // 2}.jpg" for i in range(n)],
            "face_index": np.arange(n) % 2,
            "panel_index": -np.ones(n, np.int32),
            **{
                c: np.ones(n, np.float32)
                for c in ("x1", "y1", "x2", "y2", "det_score", "face_px", "sharpness", "yaw")
            },
            "embedder": "arcface-512",
        }
    )
    embeddings = pa.array(
        [None if m else row.tolist() for row, m in zip(X, missing)], pa.list_(pa.float32())
    )
    full = pa.Table.from_pandas(table, preserve_index=False).append_column("embedding", embeddings)
    for part, rows in enumerate(np.array_split(np.arange(n), 3)):
        pq.write_table(
            full.take(rows).select(CLUSTER_COLUMNS), layout.faces / f"shard-{part:03d}.parquet"
        )
    return layout


def test_streamed_embeddings_equal_the_read_table_column(tmp_path, faces, monkeypatch):
    monkeypatch.setattr("raypipe.cluster.stream.BATCH_ROWS", 250)  # several batches per file
    missing = np.zeros(len(faces.X), bool)
    missing[[3, 1200, 2999]] = True
    layout = write_faces_dataset(tmp_path / "run", faces.X, missing)
    streamed = stream_embeddings(layout)
    column = layout.read_table("faces", columns=["embedding"]).column(0).to_pylist()
    assert isinstance(streamed.X, np.memmap) and streamed.X.dtype == np.float32
    np.testing.assert_array_equal(streamed.present, [v is not None for v in column])
    np.testing.assert_array_equal(
        streamed.X[streamed.present], np.array([v for v in column if v is not None], np.float32)
    )


def test_cluster_inputs_of_a_large_run_stream_the_same_vectors(tmp_path, faces):
    missing = np.zeros(len(faces.X), bool)
    missing[::7] = True
    layout = write_faces_dataset(tmp_path / "run", faces.X, missing)
    fit = np.arange(len(faces.X)) % 5 != 0
    in_memory = cluster_inputs(layout, load_faces(layout, embeddings=True), fit, None)
    streamed_faces = load_faces(layout, embeddings=False)
    assert "embedding" not in streamed_faces
    streamed = cluster_inputs(layout, streamed_faces, fit, None)
    np.testing.assert_array_equal(streamed.rows, in_memory.rows)
    np.testing.assert_array_equal(streamed.X, in_memory.X)
    np.testing.assert_array_equal(streamed.groups, in_memory.groups)


def test_large_path_on_a_memmap_finds_the_in_memory_clusters(
    ray_session, small_shards, tmp_path, faces
):
    mapped = np.lib.format.open_memmap(tmp_path / "faces.npy", "w+", np.float32, faces.X.shape)
    mapped[:] = faces.X
    params = {"model": "arcface-512", "cannot_link": False, "exact_limit": 0}
    in_memory = AutoClusterer(knn_method="ivf", **params).fit(np.array(faces.X)).labels_
    large = AutoClusterer(knn_method="ivf-shards", **params).fit(mapped).labels_
    assert pairwise_scores(contingency(in_memory, large))["ari"] >= 0.999
    assert pairwise_scores(contingency(faces.labels, large))["pairwise_f"] > 0.8  # real clusters


def test_k_nn_tasks_read_a_whole_npy_memmap_in_place_and_a_reversed_view_from_a_copy(tmp_path):
    mapped = np.lib.format.open_memmap(tmp_path / "x.npy", "w+", np.float32, (10, 4))
    mapped[:] = np.arange(40).reshape(10, 4)
    assert knn_shards.embeddings_file(mapped, tmp_path) == tmp_path / "x.npy"
    copied = knn_shards.embeddings_file(mapped[::-1], tmp_path)
    assert copied != tmp_path / "x.npy"
    np.testing.assert_array_equal(np.load(copied), mapped[::-1])


def test_cut_tree_at_gives_fclusters_partition_at_every_merge_height_ties_included():
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import pdist

    from raypipe.cluster.tree_cut import cut_tree_at

    rng = np.random.default_rng(0)
    for trial in range(60):
        X = rng.normal(size=(int(rng.integers(2, 40)), 8))
        X = np.round(X) + 0.5 if trial % 3 == 0 else X  # equal distances: tied merges
        tree = linkage(pdist(X, "cosine"), method="average")
        for threshold in [0.0, *tree[:, 2], *rng.uniform(0, 1.5, 3)]:
            ours, theirs = cut_tree_at(tree, threshold), fcluster(tree, threshold, "distance")
            pairs = set(zip(ours.tolist(), theirs.tolist()))  # one-to-one: the same partition
            assert len(pairs) == len(set(ours.tolist())) == len(set(theirs.tolist()))
            assert sorted(set(ours.tolist())) == list(range(len(pairs)))
