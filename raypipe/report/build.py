"""Assemble ``RUN/report.html`` from a run folder: summary, galleries, plots, tables."""

from __future__ import annotations

import json
import logging
import math
import shlex
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader
from markupsafe import Markup

from raypipe import storage
from raypipe.aggregate.mean import mean_face
from raypipe.layout import RunLayout, atomic_write_text
from raypipe.report.assets import Assets
from raypipe.report.content import (
    UNASSIGNED,
    ClusterView,
    RunContent,
    cluster_views,
    confusion,
    load_content,
)
from raypipe.report.projection import project
from raypipe.report.svg import cluster_colour, scatter
from raypipe.report.sweep import Sweep, load_sweep, param_chart, short_name

log = logging.getLogger(__name__)


@dataclass
class ReportOptions:
    """What the report shows and how much of it (the caps keep pages light for 100k faces)."""

    labels: str | None = None
    single_file: bool = False
    max_galleries: int = 60
    chips_per_cluster: int = 24
    mean_face_chips: int = 100
    max_table_rows: int = 500
    max_points: int = 1000
    max_labels: int = 40
    projection: str = "auto"
    seed: int = 0


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


def summary_facts(content: RunContent) -> list[tuple[str, object]]:
    """(label, value) rows of the run summary: inputs, faces, errors, clusters, models, timings."""
    extract, cluster, summary = (
        content.summary.get("extract", {}),
        content.summary.get("cluster", {}),
        content.summary,
    )
    faces = content.faces
    facts = [
        ("images", extract.get("images")),
        ("images without a face", extract.get("no_face")),
        ("images with errors", extract.get("errors")),
        ("faces", len(faces)),
        ("clusters", int(faces.loc[faces.cluster != UNASSIGNED, "cluster"].nunique())),
        ("unassigned faces", int((faces.cluster == UNASSIGNED).sum())),
        ("set aside by quality", cluster.get("set_aside_reasons") or cluster.get("set_aside")),
        ("detector", extract.get("models", {}).get("detector")),
        ("embedder", extract.get("models", {}).get("embedder")),
        ("clusterer", json.dumps(cluster["clusterer"]) if "clusterer" in cluster else None),
        ("extraction wall time (s)", extract.get("seconds")),
        ("clustering time (s)", cluster.get("seconds")),
        ("aggregate faces (CVAE)", aggregate_fact(summary.get("aggregate"))),
    ]
    return [(label, value) for label, value in facts if value is not None]


def aggregate_fact(aggregate: dict | None) -> str | None:
    if not aggregate:
        return None
    return (f"{aggregate['epochs']} epochs at {aggregate['image_size']} px on {aggregate['device']}, "
            f"loss {aggregate['first_loss']:.4g} -> {aggregate['final_loss']:.4g}, {aggregate['seconds']:.1f}s")  # fmt: skip


def chips(content: RunContent, face_ids: list[str], assets: Assets) -> list[dict]:
    """``src`` and hover text of the faces' chips, leaving out chips missing on disk."""
    found = [(f, content.layout.chip(f)) for f in face_ids]
    return [
        {"src": assets.url(p), "title": f"{content.image_paths[f]} ({f})", "face_id": f}
        for f, p in found
        if p.exists()
    ]


def gallery(content: RunContent, view: ClusterView, assets: Assets, options: ReportOptions) -> dict:
    """One cluster's section: representative, mean face, CVAE face when present, sampled chips."""
    rng = np.random.default_rng(options.seed + view.cluster)
    rows = (
        view.rows
        if view.size <= options.mean_face_chips
        else rng.choice(view.rows, options.mean_face_chips, replace=False)
    )
    mean = mean_face(p for p in map(content.layout.chip, content.face_ids[rows]) if p.exists())
    decoded = content.layout.aggregate / f"{view.cluster}.png"
    representative = chips(content, [view.representative], assets)
    return {
        "view": view,
        "representative": representative[0] if representative else None,
        "mean_src": assets.image(f"mean/{view.cluster}.png", mean) if mean is not None else None,
        "mean_of": len(rows),
        "decoded_src": assets.url(decoded)
        if is_current(decoded, content.layout.clusters)
        else None,
        "chips": chips(content, view.sample, assets),
        "colour": cluster_colour(view.cluster),
    }


def is_current(output: Path, source: Path) -> bool:
    """``output`` exists and is not older than ``source`` (a re-clustering makes old faces wrong)."""
    return output.exists() and (
        not source.exists() or storage.modified(output) >= storage.modified(source)
    )


def unassigned(content: RunContent, assets: Assets, options: ReportOptions) -> dict:
    faces = content.faces[content.faces.cluster == UNASSIGNED]
    shown = faces.sample(
        n=min(len(faces), options.chips_per_cluster), random_state=options.seed
    ).sort_index()
    return {"count": len(faces), "chips": chips(content, shown.face_id.tolist(), assets)}


def suggestion_rows(content: RunContent, assets: Assets, limit: int) -> dict | None:
    """The most similar ``limit`` rows of ``suggestions.csv``, each with its chip."""
    if content.suggestions is None:
        return None
    rows = content.suggestions.head(limit).to_dict("records")
    shown = {c["face_id"]: c for c in chips(content, [r["face_id"] for r in rows], assets)}
    return {"total": len(content.suggestions), "rows": [{**r, "chip": shown.get(r["face_id"])} for r in rows]}


def error_rows(content: RunContent, limit: int) -> dict:
    errors = (
        content.errors
        if content.errors is not None
        else pd.DataFrame(columns=["image_path", "stage", "reason"])
    )
    return {"total": len(errors), "rows": errors.head(limit).to_dict("records")}


def projection_plot(content: RunContent, options: ReportOptions) -> dict | None:
    """The 2-D map as inline SVG, one dot per sampled face coloured by cluster."""
    faces = content.faces
    if len(faces) < 3:
        return None
    result = project(
        content.embeddings,
        options.projection,
        options.max_points,
        options.seed,
    )
    shown = faces.iloc[result.rows]
    colours = [cluster_colour(c) for c in shown.cluster]
    titles = [f"cluster {c}: {p}" for c, p in zip(shown.cluster, shown.image_path)]
    svg = scatter(
        result.xy[:, 0], result.xy[:, 1], colours, titles, width=720, height=520, axes=False
    )
    return {
        "svg": Markup(svg),
        "method": result.method,
        "shown": len(result.rows),
        "total": result.total,
    }


def confusion_rows(content: RunContent, views: list[ClusterView], options: ReportOptions) -> dict:
    """Labelled faces per cluster (largest clusters first, then the unassigned) and label."""
    clusters = [v.cluster for v in views[: options.max_galleries]] + [UNASSIGNED]
    table = confusion(content.faces, clusters, options.max_labels)
    table = table[table.sum(axis=1) > 0]
    peak = max(int(table.to_numpy().max()), 1) if table.size else 1
    rows = [
        {
            "cluster": cluster,
            "cells": [{"count": int(n), "shade": round(n / peak, 3)} for n in counts],
        }
        for cluster, counts in zip(table.index, table.to_numpy())
    ]
    return {
        "labels": list(table.columns),
        "rows": rows,
        "labels_total": int(content.faces["label"].nunique()),
    }


def sweep_section(layout: RunLayout, limit: int) -> dict | None:
    sweep: Sweep | None = load_sweep(layout.tune / "results.csv")
    if sweep is None:
        return None
    shown = [sweep.metric, *sweep.params]
    return {
        "metric": sweep.metric,
        "trials": len(sweep.table),
        "charts": [
            {"param": short_name(p), "svg": Markup(param_chart(sweep, p))} for p in sweep.params
        ],
        "columns": [short_name(c) for c in shown],
        "rows": sweep.table[shown].head(limit).to_numpy().tolist(),
    }


def result_tables(layout: RunLayout, limit: int) -> list[dict]:
    """The research result tables ``RUN/results/*.csv``, their first rows each."""
    tables = []
    for path in sorted(layout.results.glob("*.csv")) if layout.results.exists() else []:
        table = storage.read_csv(path)
        tables.append({"name": path.name, "src": path.relative_to(layout.root).as_posix(), "total": len(table),
                       "columns": list(table.columns), "rows": table.head(limit).to_numpy().tolist()})  # fmt: skip
    return tables
