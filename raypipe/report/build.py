"""Assemble ``RUN/report.html`` from a run folder: summary, galleries, plots, tables."""

from __future__ import annotations

import json
import logging
import math
import shlex
import time
from datetime import datetime, timezone
from pathlib import Path

from jinja2 import Environment, PackageLoader

from raypipe import storage
from raypipe.chips import ChipStore
from raypipe.layout import RunLayout, atomic_write_text
from raypipe.report.assets import Assets
from raypipe.report.content import cluster_views, load_content
from raypipe.report.galleries import gallery, shown_face_ids, suggestion_rows, unassigned
from raypipe.report.options import ReportOptions
from raypipe.report.sections import confusion_rows, error_rows, projection_plot, summary_facts
from raypipe.report.sweep import result_tables, sweep_section

log = logging.getLogger(__name__)


def write_report(run: str | Path, options: ReportOptions | None = None) -> Path:
    """Write ``RUN/report.html`` (and ``RUN/report_files/`` unless single-file); return its path.

    The run folder may be local or remote (:mod:`raypipe.storage`); the page links its images
    relative to itself, so it reads wherever the folder is served or copied whole.
    """
    options = options or ReportOptions()
    started = time.perf_counter()
    layout = RunLayout.at(run)
    content = load_content(layout, options.labels)
    assets = Assets(layout.root, layout.report_files, embed=options.single_file)
    views = cluster_views(content, options.chips_per_cluster, options.seed)
    content.chips = ChipStore(layout).read(shown_face_ids(content, views[: options.max_galleries], options))
    storage.remove_tree(layout.report_files / "chips")  # the last report's: other faces, maybe
    page = render(
        title=layout.root.resolve().name,
        generated=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        options=options,
        facts=summary_facts(content),
        stages=content.summary.get("extract", {}).get("stage_seconds", {}),
        metrics=content.metrics,
        galleries=[gallery(content, view, assets, options) for view in views[: options.max_galleries]],
        other_clusters=views[options.max_galleries : options.max_galleries + options.max_table_rows],
        clusters_not_listed=max(0, len(views) - options.max_galleries - options.max_table_rows),
        cluster_count=len(views),
        unassigned=unassigned(content, assets, options),
        run=shlex.quote(str(layout.root.resolve())),
        suggestions=suggestion_rows(content, assets, options.max_table_rows),
        errors=error_rows(content, options.max_table_rows),
        projection=projection_plot(content, options),
        confusion=confusion_rows(content, views, options) if content.labelled else None,
        sweep=sweep_section(layout, options.max_table_rows),
        result_tables=result_tables(layout, options.max_table_rows),
        config=json.dumps(content.config, indent=2, sort_keys=True),
    )  # fmt: skip
    atomic_write_text(layout.report, page)
    log.info("wrote %s (%d clusters, %d with galleries) in %.1fs", layout.report, len(views),
             min(len(views), options.max_galleries), time.perf_counter() - started)  # fmt: skip
    return layout.report


def render(**context) -> str:
    environment = Environment(
        loader=PackageLoader("raypipe.report"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["fmt"] = format_value
    environment.filters["shell"] = shlex.quote
    return environment.get_template("report.html").render(**context)


def format_value(value) -> str:
    """Numbers short and readable: integers as they are, floats to four significant digits.

    >>> format_value(0.123456), format_value(3), format_value(float("nan"))
    ('0.1235', '3', '')
    """
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.4g}"
    return str(value)
