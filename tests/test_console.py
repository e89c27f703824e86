"""What a run prints: raypipe's progress and summary lines, none of Ray's messages (those go to
``RUN/raypipe.log``), and no deprecated Ray API call behind them."""

from __future__ import annotations

import io
import logging
import os
import shutil
import subprocess
import sys

import pytest

from raypipe.cli import main
from raypipe.config import Config
from raypipe.console import Progress
from raypipe.pipeline.topology import build_topology
from tests.conftest import REPO, SAMPLE_PHOTOS

CHEAP = ["--set", "extract.detector={name: whole-image}", "--set", "extract.embedder={name: feature, feature: color-hist}"]
#: Lines Ray printed on a run's console before (token warning, Ray Data's progress blocks every
#: 10 s, the `concurrency` deprecation, a UserWarning of the task pool), and MLflow's set-up.
RAY_NOISE = ("Token authentication", "Running Dataset", "Active & requested resources", "deprecated",
             "UserWarning", "logging_progress", "Progress will be logged", "ray.data",
             "MLflow database tables")  # fmt: skip


def test_progress_prints_one_line_per_period_when_not_on_a_terminal():
    out = io.StringIO()
    progress = Progress(total=10, done=2, stream=out, interval=3600)
    progress.update(images=4, faces=5, errors=1)  # within the period: nothing new printed
    progress.close()
    lines = out.getvalue().splitlines()
    assert len(lines) == 2 and lines[0].startswith("extract: 2/10 images (20%)")
    assert lines[1].startswith("extract: 6/10 images (60%)") and "images/s  5 faces  1 errors  ETA " in lines[1]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_redraws_one_line_in_place_on_a_terminal():
    out = Terminal()
    progress = Progress(total=4, stream=out, interval=0)
    progress.update(images=2, faces=3, errors=0)
    progress.update(images=2, faces=1, errors=0)
    progress.close()
    text = out.getvalue()
    assert text.count("\n") == 1 and text.endswith("\n")  # one line, ended when the extraction ends
    assert text.count("\rextract: ") == 4 and "\rextract: 4/4 images (100%)" in text and "4 faces" in text


def test_a_runs_console_shows_raypipes_progress_and_summary_and_rays_messages_go_to_its_log(tmp_path):
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(REPO), "RAYPIPE_PROGRESS_SECONDS": "0"}  # a fresh MLflow store: conftest
    env.pop("RAY_AUTH_MODE", None)  # Ray then warns about token authentication: it must not show
    env.pop("RAY_ADDRESS", None)
    run = subprocess.run(
        [sys.executable, "-m", "raypipe.cli", "run", str(SAMPLE_PHOTOS), "--out", str(out), *CHEAP],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    console = run.stdout + run.stderr
    assert run.returncode == 0, console[-3000:]
    assert "extract: 0/39 images (0%)" in console
    assert any(line.startswith("extract: 39/39 images (100%)") and "images/s" in line for line in console.splitlines())
    assert "images: 39  faces: 39" in console  # the summary
    assert [noise for noise in RAY_NOISE if noise in console] == [], console[-3000:]
    log = (out / "raypipe.log").read_text(encoding="utf-8")
    assert "Started a local Ray instance" in log and "raypipe.pipeline.extract" in log
    assert "MLflow database tables" in log


def test_a_sweep_prints_none_of_ray_tunes_console_output(sample_run, tmp_path, capfd):
    run = shutil.copytree(sample_run, tmp_path / "run", ignore=shutil.ignore_patterns("chips", "clustered_faces"))
    code = main(["tune", str(run), "--space", str(REPO / "tune" / "photos.yaml"), "--search", "random",
                 "--num-samples", "2", "--no-tracking"])  # fmt: skip
    console = "".join(capfd.readouterr())
    assert code == 0 and "tune: 2 trials" in console
    assert [line for line in ("Configuration for experiment", "View detailed results", "tensorboard") if line in console] == []


@pytest.mark.filterwarnings("error::DeprecationWarning:raypipe")  # raised where raypipe calls
@pytest.mark.parametrize("topology", ["fused", "pools"])
def test_extraction_makes_no_deprecated_ray_data_call(ray_session, tmp_path, topology):
    """Ray Data logs (not warns) its deprecations, e.g. ``concurrency`` since Ray 2.51."""
    import ray.data

    records: list[logging.LogRecord] = []
    capture = logging.Handler(logging.WARNING)
    capture.emit = records.append
    loggers = [logging.getLogger(n) for n in list(logging.root.manager.loggerDict) if n.startswith("ray")]
    for logger in loggers:
        logger.addHandler(capture)
    try:
        config = Config.load(overrides=[*CHEAP[1::2], f"ray.topology={topology}"])
        keys = ray.data.from_items([{"shard": "a"}, {"shard": "b"}])
        build_topology(keys, config, (config.to_dict(), config.extract.embedder, {}, str(tmp_path)), 2.0, 0.0, shards=2)
    finally:
        for logger in loggers:
            logger.removeHandler(capture)
    assert [r.getMessage() for r in records if "deprecat" in r.getMessage().lower()] == []
