"""The report opened in a real browser (headless Chromium driven by Playwright).

Skipped when Chromium (/usr/bin/chromium, Debian's ``chromium``) or the ``playwright`` package is
missing, except under CI (``CI=true``), where a missing browser fails the test.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from raypipe.report import ReportOptions, write_report

CHROMIUM = Path("/usr/bin/chromium")
#: Playwright adds --headless and its own throw-away --user-data-dir.
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def need_browser():
    """Playwright's sync API, or skip saying what is missing (a failure under CI, see conftest)."""
    missing = []
    if not CHROMIUM.exists():
        missing.append(f"{CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing.append(
            "the playwright package (pip install playwright; no browser download needed)"
        )
    if missing:
        pytest.skip("the browser test needs " + " and ".join(missing))
    return sync_playwright


@pytest.fixture(scope="module")
def browser():
    sync_playwright = need_browser()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


def open_report(browser, report: Path, screenshot: Path) -> dict:
    """Load the page from disk; return its problems, images and cluster sections; save a screenshot."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems = []
    page.on(
        "console",
        lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None,
    )
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("requestfailed", lambda request: problems.append(f"failed to load {request.url}"))
    page.goto(report.resolve().as_uri(), wait_until="load")
    images = page.evaluate(
        "Array.from(document.images, i => ({src: i.src.slice(0, 80), complete: i.complete, width: i.naturalWidth}))"
    )
    clusters = page.locator("section.cluster").count()
    page.screenshot(path=str(screenshot), full_page=True)
    page.close()
    return {"problems": problems, "images": images, "clusters": clusters}


@pytest.mark.parametrize("single_file", [False, True], ids=["linked", "single-file"])
def test_report_renders_in_chromium(browser, sample_run, tmp_path, single_file):
    run = Path(shutil.copytree(sample_run, tmp_path / "run"))
    write_report(run, ReportOptions(single_file=single_file, labels=None))
    shown = open_report(browser, run / "report.html", tmp_path / "report.png")

    clusters = pd.read_csv(run / "clusters.csv").cluster
    assert shown["problems"] == []
    assert shown["clusters"] == clusters[clusters >= 0].nunique()
    assert len(shown["images"]) >= len(
        clusters
    )  # every chip once at least (sample run: under the caps)
    broken = [image for image in shown["images"] if not image["complete"] or image["width"] == 0]
    assert broken == []
    assert (tmp_path / "report.png").stat().st_size > 10_000
