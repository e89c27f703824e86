"""The Ray Data stages called directly: decoding apart or inside detection gives the same rows."""

import numpy as np

from raypipe.config import Config
from raypipe.ids import image_id
from raypipe.pipeline.stages import DecodeStage, DetectAlignStage, EmbedStage
from tests.conftest import SAMPLE_PHOTOS


def _batch(paths):
    return {
        "image_path": np.array([str(p) for p in paths], object),
        "image_id": np.array([image_id(str(p)) for p in paths], object),
        "shard": np.zeros(len(paths), np.int64),
    }


def test_decoding_upstream_or_inline_gives_the_same_rows(tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8 not really")
    paths = sorted((SAMPLE_PHOTOS / "obama").glob("*.jpg"))[:2] + [broken]
    config = Config().to_dict()
    spec = {"name": "dlib"}
    detect = DetectAlignStage(config, spec)
    inline = detect(_batch(paths))
    upstream = detect(DecodeStage(config["extract"])(_batch(paths)))
    assert list(inline["kind"]) == list(upstream["kind"])
    assert sorted(inline["kind"]) == ["error", "face", "face"]
    np.testing.assert_allclose(inline["x1"], upstream["x1"])
    np.testing.assert_array_equal(inline["chip"], upstream["chip"])
    embedded = EmbedStage(spec)(inline)
    faces = embedded["kind"] == "face"
    assert "chip" not in embedded
    assert np.allclose(np.linalg.norm(embedded["embedding"][faces], axis=1), 1.0, atol=1e-4)
    assert not embedded["embedding"][~faces].any()


def test_fused_stage_equals_the_two_stages_chained():
    from raypipe.pipeline.stages import DetectEmbedStage

    paths = sorted((SAMPLE_PHOTOS / "tony_blair").glob("*.jpg"))[:2]
    config, spec = Config().to_dict(), {"name": "dlib"}
    fused = DetectEmbedStage(config, spec)(_batch(paths))
    chained = EmbedStage(spec)(DetectAlignStage(config, spec)(_batch(paths)))
    np.testing.assert_allclose(fused["embedding"], chained["embedding"], atol=1e-6)
