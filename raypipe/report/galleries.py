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
