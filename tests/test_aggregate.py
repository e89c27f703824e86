"""The conditional VAE trained on a real run's chips: loss goes down, one face per cluster."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch
from PIL import Image

from raypipe.aggregate.cvae import ConditionalVAE
from raypipe.aggregate.settings import AggregateSettings
from raypipe.aggregate.train import aggregate_run
from raypipe.cli import main
from raypipe.report import write_report
from tests.conftest import REPO


@pytest.fixture
def run_copy(sample_run, tmp_path) -> Path:
    return Path(shutil.copytree(sample_run, tmp_path / "run"))


def clusters_of(run: Path) -> set[int]:
    clusters = pd.read_csv(run / "clusters.csv").cluster
    return set(clusters[clusters >= 0].tolist())


def test_cvae_learns_and_decodes_one_face_per_cluster(run_copy):
    result = aggregate_run(str(run_copy), AggregateSettings(epochs=6, image_size=32, device="cpu"))
    assert result.device == "cpu" and len(result.losses) == 6
    assert result.final_loss < 0.7 * result.first_loss
    written = {int(p.stem) for p in (run_copy / "aggregate").glob("*.png")}
    assert written == clusters_of(run_copy) and result.clusters == len(written)
    with Image.open(run_copy / "aggregate" / f"{min(written)}.png") as face:
        assert face.size == (32, 32) and face.mode == "RGB"


def test_report_shows_cvae_faces_until_the_run_is_reclustered(run_copy):
    assert main(["aggregate", str(run_copy), "--epochs", "1", "--image-size", "16", "--device", "cpu",
                 "--no-tracking"]) == 0  # fmt: skip
    summary = json.loads((run_copy / "summary.json").read_text(encoding="utf-8"))
    assert summary["aggregate"]["epochs"] == 1
    write_report(run_copy)
    html = (run_copy / "report.html").read_text(encoding="utf-8")
    assert html.count('src="aggregate/') == len(clusters_of(run_copy))
    later = (run_copy / "aggregate" / "0.png").stat().st_mtime + 10
    os.utime(
        run_copy / "clusters.csv", (later, later)
    )  # a newer clustering: decoded faces are stale
    write_report(run_copy)
    assert 'src="aggregate/' not in (run_copy / "report.html").read_text(encoding="utf-8")


def test_decoder_shapes_and_image_size_check():
    model = ConditionalVAE(n_clusters=3, image_size=48)
    assert model.aggregate(torch.arange(3)).shape == (3, 3, 48, 48)
    with pytest.raises(ValueError, match="multiple of 16"):
        ConditionalVAE(n_clusters=3, image_size=40)


def test_the_cli_parser_is_built_without_importing_torch():
    """Every command builds the whole parser; torch costs seconds, so only the VAE's code may import it."""
    probe = "import sys; from raypipe.cli import build_parser; build_parser(); print('torch' in sys.modules)"
    found = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=REPO)
    assert found.stdout.strip() == "False"
