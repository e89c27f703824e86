"""Run folders behind URIs: file:// through pyarrow, memory:// through fsspec, plain paths unchanged."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from raypipe import storage
from raypipe.layout import RunLayout, atomic_write_text


@pytest.fixture(params=["file", "memory"])
def root(request, tmp_path) -> storage.StoragePath:
    uri = f"file://{tmp_path}/run" if request.param == "file" else f"memory://raypipe-test/{tmp_path.name}/run"
    return storage.location(uri)


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
    storage.remove_tree(layout.clustered_faces)
    assert not layout.clustered_faces.exists()
    assert not any(p.name.endswith(".tmp") for p in layout.root.iterdir()), "a temporary file was left behind"


def test_plain_paths_stay_pathlib(tmp_path):
    layout = RunLayout.at(str(tmp_path / "run"))
    assert type(layout.root) is type(tmp_path)
    atomic_write_text(layout.config, "{}")
    assert Path(layout.config).read_text() == "{}" and list(layout.root.iterdir()) == [layout.config]
