"""The HTML report of a real run: contents, relative links, single-file mode, caps, sweeps."""

from __future__ import annotations

import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from raypipe.aggregate.mean import load_chip, mean_face
from raypipe.chips import ChipStore
from raypipe.cli import main
from raypipe.layout import RunLayout
from raypipe.report import ReportOptions, write_report
from raypipe.report.content import confusion
from raypipe.report.sweep import load_sweep


class PageParser(HTMLParser):
    """Image sources, cluster section ids and the text of a report page."""

    def __init__(self):
        super().__init__()
        self.images: list[str] = []
        self.clusters: list[int] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs["src"])
        if tag == "section" and "cluster" in (attrs.get("class") or "").split():
            self.clusters.append(int(attrs["data-cluster"]))

    def handle_data(self, data):
        self.text.append(data)


def parse(path: Path) -> PageParser:
    parser = PageParser()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


@pytest.fixture
def run_copy(sample_run, tmp_path) -> Path:
    """A writable copy of the sample run."""
    return Path(shutil.copytree(sample_run, tmp_path / "run"))


def cluster_sizes(run: Path) -> pd.Series:
    clusters = pd.read_csv(run / "clusters.csv")
    return clusters.loc[clusters.cluster >= 0, "cluster"].value_counts()


def test_run_writes_a_report_with_one_gallery_per_cluster_largest_first(sample_run):
    page = parse(sample_run / "report.html")
    sizes = cluster_sizes(sample_run)
    assert len(page.clusters) == len(sizes) > 0
    assert [sizes[c] for c in page.clusters] == sorted(sizes, reverse=True)
    text = " ".join(page.text)
    for section in (
        "Summary",
        "Metrics",
        "Unassigned faces",
        "Map of the faces",
        "Clusters against labels",
        "Errors",
    ):
        assert section in text
    assert "dlib-hog" in text and "majority" in text


def test_images_are_linked_relative_to_the_run_folder(sample_run):
    sources = parse(sample_run / "report.html").images
    assert any(src.startswith("report_files/chips/") for src in sources)
    assert any(src.startswith("report_files/mean/") for src in sources)
    for src in sources:
        assert not src.startswith(("/", "data:", "file:")), src
        assert (sample_run / src).is_file(), src


def test_single_file_report_embeds_every_image(run_copy):
    shutil.rmtree(run_copy / "report_files")
    write_report(run_copy, ReportOptions(single_file=True))
    sources = parse(run_copy / "report.html").images
    assert sources and all(src.startswith("data:image/") for src in sources)
    assert not (run_copy / "report_files").exists()


def test_caps_limit_galleries_and_chips(run_copy):
    sizes = cluster_sizes(run_copy)
    write_report(run_copy, ReportOptions(max_galleries=1, chips_per_cluster=3))
    html = (run_copy / "report.html").read_text(encoding="utf-8")
    page = parse(run_copy / "report.html")
    assert page.clusters == [int(sizes.index[0])]
    assert ("Smaller clusters" in html) == (len(sizes) > 1)
    gallery = html.split('class="cluster"')[1].split("</section>")[0]
    chips = re.findall(r'<img src="report_files/chips/', gallery)
    assert len(chips) == min(3, sizes.iloc[0])  # representative + 2 sampled
    shown = set(re.findall(r'src="report_files/chips/([^"]+)"', html))
    assert {p.name for p in (run_copy / "report_files" / "chips").iterdir()} == shown  # none left from the last report


def test_mean_face_is_the_pixel_average_of_the_chips(sample_run):
    chips = sorted(ChipStore(RunLayout.at(sample_run)).read(pd.read_parquet(sample_run / "faces.parquet").face_id).values())[:2]
    expected = (load_chip(chips[0], 32).astype(float) + load_chip(chips[1], 32)) / 2
    assert np.abs(mean_face(chips, 32).astype(float) - expected).max() <= 0.5


def test_confusion_orders_labels_along_the_diagonal():
    faces = pd.DataFrame({"cluster": [0, 0, 0, 1, 1, -1], "label": ["b", "b", "a", "a", "a", None]})
    table = confusion(faces, [0, 1, -1], max_labels=10)
    assert list(table.columns) == ["b", "a"]
    assert table.loc[0].tolist() == [2, 1] and table.loc[1].tolist() == [0, 2]


def test_sweep_results_get_one_chart_per_varied_parameter(run_copy):
    trials = pd.DataFrame(
        {
            "trial": ["t0", "t1", "t2", "t3"],
            "status": ["ok", "ok", "ok", "error"],
            "bcubed_f": [0.9, 0.8, 0.5, np.nan],
            "feature": ["embedding"] * 4,
            "clusterer.name": ["agglomerative", "agglomerative", "hdbscan", "hdbscan"],
            "clusterer.threshold": [0.1, 0.2, np.nan, np.nan],
            "nmi": [0.95, 0.9, 0.6, np.nan],
        }
    )
    (run_copy / "tune").mkdir()
    trials.to_csv(run_copy / "tune" / "results.csv", index=False)
    sweep = load_sweep(run_copy / "tune" / "results.csv")
    assert sweep.metric == "bcubed_f" and sweep.params == ["clusterer.name", "clusterer.threshold"]
    write_report(run_copy)
    html = (run_copy / "report.html").read_text(encoding="utf-8")
    section = html.split('<section id="sweep">')[1].split("</section>")[0]
    assert "Sweep (4 trials)" in section
    assert section.count("<svg") == 2
    assert "clusterer.threshold=0.1  bcubed_f=0.9000" in section


def test_report_command_writes_a_single_file_report_with_embedded_images(run_copy):
    assert (
        main(["report", str(run_copy), "--no-tracking", "--projection", "pca", "--single-file"])
        == 0
    )
    assert parse(run_copy / "report.html").images[0].startswith("data:")
    assert "report" in (run_copy / "summary.json").read_text(encoding="utf-8")
