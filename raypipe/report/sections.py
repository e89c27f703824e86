"""The run's facts and plots in the report: summary, errors, the 2-D map, the confusion table."""

from __future__ import annotations

import json

import pandas as pd
from markupsafe import Markup

from raypipe.report.content import UNASSIGNED, ClusterView, RunContent, confusion
from raypipe.report.options import ReportOptions
from raypipe.report.projection import project
from raypipe.report.svg import cluster_colour, scatter


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
