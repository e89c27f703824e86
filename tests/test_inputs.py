import pytest

from raypipe.ids import image_id, safe_stem
from raypipe.io.inputs import list_inputs


@pytest.fixture
def tree(tmp_path):
    for rel in ["a/one.jpg", "a/b/two.PNG", "a/notes.txt", "a/.hidden/x.jpg", "c/three.webp"]:
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    return tmp_path


def test_folders_are_listed_recursively_and_other_files_reported(tree):
    listing = list_inputs([str(tree / "a")])
    assert [p.split("/a/")[-1] for p in listing.images] == ["b/two.PNG", "one.jpg"]
    assert [(p.split("/")[-1], "not a supported" in r) for p, r in listing.skipped] == [("notes.txt", True)]


def test_glob_and_list_file(tree):
    assert len(list_inputs([str(tree / "**" / "*.webp")]).images) == 1
    (tree / "list.txt").write_text("# my photos\na/one.jpg\n\nc/three.webp\n")
    assert [p.split("/")[-1] for p in list_inputs([str(tree / "list.txt")]).images] == ["one.jpg", "three.webp"]


def test_missing_input_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        list_inputs([str(tmp_path / "nope")])


def test_ids_are_stable_and_names_safe():
    assert image_id("s3://b/x.jpg") == image_id("s3://b/x.jpg") != image_id("s3://b/y.jpg")
    assert safe_stem("../../../etc/passwd") == "passwd"
    assert "/" not in safe_stem("a/b\\c..jpg") and safe_stem("..") == "image"


def test_a_bucket_prefix_is_listed_folder_by_folder_lazily_and_in_a_stable_order(monkeypatch):
    import fsspec
    from fsspec.implementations.memory import MemoryFileSystem

    from raypipe.io.inputs import iter_inputs

    fs = fsspec.filesystem("memory")
    for name in ("b/2.jpg", "b/1.jpg", "a/x/3.png", "a/0.jpg", "a/notes.txt"):
        fs.pipe(f"/listing-test/{name}", b"x")

    def whole_bucket_at_once(*args, **kwargs):
        raise AssertionError("the whole prefix was listed in one call")

    monkeypatch.setattr(MemoryFileSystem, "find", whole_bucket_at_once)
    listed = iter_inputs(["memory://listing-test"])
    assert next(listed) == ("memory:///listing-test/a/0.jpg", "")
    rest = [uri for uri, _ in listed]
    assert rest == [
        "memory:///listing-test/a/notes.txt",
        "memory:///listing-test/a/x/3.png",
        "memory:///listing-test/b/1.jpg",
        "memory:///listing-test/b/2.jpg",
    ]
    monkeypatch.undo()
    fs.rm("/listing-test", recursive=True)
