"""Run folders behind URIs through fsspec (memory:// here, s3:// in test_object_store); file:// is a local path."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from raypipe import storage
from raypipe.layout import RunLayout, atomic_write_text


@pytest.fixture
def root(tmp_path) -> storage.StoragePath:
    return storage.location(f"memory://raypipe-test/{tmp_path.name}/run")


def test_layout_of_a_uri_writes_reads_lists_and_removes(root):
    layout = RunLayout.at(str(root))
    assert isinstance(layout.root, storage.StoragePath) and str(layout.faces) == f"{root}/faces.parquet"
    atomic_write_text(layout.summary, '{"a": 1}')
    assert layout.summary.exists() and layout.summary.read_text() == '{"a": 1}'
    for shard in (2, 0, 1):
        atomic_write_text(layout.shards / f"{shard:06d}.done.json", "{}")
    assert [p.name for p in layout.shards.glob("*.done.json")] == ["000000.done.json", "000001.done.json", "000002.done.json"]
    table = pa.table({"face_id": ["a", "b"], "x": [1.0, 2.0]})
    storage.write_table(layout.faces, table)
    assert storage.read_table(layout.faces).equals(table)
    storage.copy_file(layout.summary, layout.clustered_faces / "0" / "copy.json")
    assert (layout.clustered_faces / "0" / "copy.json").read_text() == '{"a": 1}'
    assert layout.shards.glob("*.json") == layout.root.glob("_shards/*.json") != []
    assert (layout.shards / "000001.done.json").relative_to(layout.root).as_posix() == "_shards/000001.done.json"
    storage.remove_tree(layout.clustered_faces)
    assert not layout.clustered_faces.exists()
    assert not any(p.name.endswith(".tmp") for p in layout.root.iterdir()), "a temporary file was left behind"


def test_plain_paths_stay_pathlib(tmp_path):
    layout = RunLayout.at(str(tmp_path / "run"))
    assert type(layout.root) is type(tmp_path)
    atomic_write_text(layout.config, "{}")
    assert Path(layout.config).read_text() == "{}" and list(layout.root.iterdir()) == [layout.config]


def test_a_file_uri_is_a_local_path_any_library_opens(tmp_path):
    layout = RunLayout.at(f"file://{tmp_path}/run")
    assert layout.root == tmp_path / "run" and isinstance(layout.root, Path)
    atomic_write_text(layout.summary, "{}")
    with open(layout.summary) as handle:  # path-like: os.fspath works
        assert handle.read() == "{}"


def test_tracking_uploads_artifacts_of_a_remote_run_folder(root, tmp_path):
    from mlflow.tracking import MlflowClient

    from raypipe.config import TrackingConfig
    from raypipe.tracking import tracked_run

    layout = RunLayout.at(str(root))
    atomic_write_text(layout.summary, '{"faces": 3}')
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    with tracked_run(TrackingConfig(uri=uri), "remote") as tracker:
        tracker.log_artifacts(layout.summary, layout.metrics)  # metrics.json absent: left out
    client = MlflowClient(uri)
    (artifact,) = client.list_artifacts(tracker.run_id)
    assert artifact.path == "summary.json"
    local = client.download_artifacts(tracker.run_id, "summary.json", str(tmp_path))
    assert Path(local).read_text() == '{"faces": 3}'
