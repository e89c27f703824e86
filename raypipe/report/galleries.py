"""The face sections of the report: one gallery per cluster, the unassigned, the suggestions."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from raypipe import storage
from raypipe.aggregate.mean import mean_face
from raypipe.report.assets import Assets
from raypipe.report.content import UNASSIGNED, ClusterView, RunContent
from raypipe.report.options import ReportOptions
from raypipe.report.svg import cluster_colour


def shown_face_ids(content: RunContent, views: list[ClusterView], options: ReportOptions) -> list[str]:
    """Every face whose chip the report shows or averages (read from the shards in one pass)."""
    shown = [f for view in views for f in [view.representative, *view.sample, *content.face_ids[mean_rows(view, options)]]]
    shown += unassigned_sample(content, options)
    if content.suggestions is not None:
        shown += content.suggestions.head(options.max_table_rows)["face_id"].tolist()
    return shown


def chips(content: RunContent, face_ids: list[str], assets: Assets) -> list[dict]:
    """``src`` and hover text of the faces' chips, leaving out faces without a stored chip."""
    return [
        {"src": assets.data(f"chips/{f}.jpg", content.chips[f]), "title": f"{content.image_paths[f]} ({f})", "face_id": f}
        for f in face_ids
        if f in content.chips
    ]


def mean_rows(view: ClusterView, options: ReportOptions) -> np.ndarray:
    """The rows of the cluster's mean face: all, or a seeded sample of ``mean_face_chips``."""
    if view.size <= options.mean_face_chips:
        return view.rows
    return np.random.default_rng(options.seed + view.cluster).choice(view.rows, options.mean_face_chips, replace=False)


def gallery(content: RunContent, view: ClusterView, assets: Assets, options: ReportOptions) -> dict:
    """One cluster's section: representative, mean face, CVAE face when present, sampled chips."""
    rows = mean_rows(view, options)
    mean = mean_face(content.chips[f] for f in content.face_ids[rows] if f in content.chips)
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


def unassigned_sample(content: RunContent, options: ReportOptions) -> list[str]:
    """The unassigned faces the report shows: a seeded sample of ``chips_per_cluster``."""
    faces = content.faces[content.faces.cluster == UNASSIGNED]
    shown = faces.sample(n=min(len(faces), options.chips_per_cluster), random_state=options.seed).sort_index()
    return shown.face_id.tolist()


def unassigned(content: RunContent, assets: Assets, options: ReportOptions) -> dict:
    count = int((content.faces.cluster == UNASSIGNED).sum())
    return {"count": count, "chips": chips(content, unassigned_sample(content, options), assets)}


def suggestion_rows(content: RunContent, assets: Assets, limit: int) -> dict | None:
    """The most similar ``limit`` rows of ``suggestions.csv``, each with its chip."""
    if content.suggestions is None:
        return None
    rows = content.suggestions.head(limit).to_dict("records")
    shown = {c["face_id"]: c for c in chips(content, [r["face_id"] for r in rows], assets)}
    return {"total": len(content.suggestions), "rows": [{**r, "chip": shown.get(r["face_id"])} for r in rows]}
