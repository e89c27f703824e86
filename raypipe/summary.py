"""``summary.json``: what each step of a run did (counts, timings), merged step by step."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from raypipe.layout import RunLayout, atomic_write_text


def read_summary(layout: RunLayout) -> dict:
    """The run's ``summary.json`` (empty before its first step)."""
    return json.loads(layout.summary.read_text(encoding="utf-8")) if layout.summary.exists() else {}


def update_summary(layout: RunLayout, step: str, result: Any) -> dict:
    """Store ``result`` (a dataclass or dict) as ``summary[step]`` and return the whole summary."""
    summary = read_summary(layout)
    summary[step] = dataclasses.asdict(result) if dataclasses.is_dataclass(result) else dict(result)
    _write(layout, summary)
    return summary


def drop_from_summary(layout: RunLayout, *steps: str) -> dict:
    """Remove ``steps`` (results that no longer hold) from the summary and return it."""
    summary = read_summary(layout)
    for step in steps:
        summary.pop(step, None)
    _write(layout, summary)
    return summary


def _write(layout: RunLayout, summary: dict) -> None:
    atomic_write_text(layout.summary, json.dumps(summary, indent=2, sort_keys=True))


def format_summary(summary: dict) -> str:
    """A few human lines: images, faces, errors, clusters, time per stage, metrics."""
    lines = []
    ex = summary.get("extract")
    if ex:
        lines.append(
            f"images: {ex['images']}  faces: {ex['faces']}  no face: {ex['no_face']}  errors: {ex['errors']}"
            f"  (shards: {ex['new_shards']} new, {ex['skipped_shards']} already done)"
        )
        stages = "  ".join(f"{k} {v:.1f}s" for k, v in ex["stage_seconds"].items())
        lines.append(f"extract: {ex['seconds']:.1f}s wall; worker time per stage: {stages}")
        lines.append(f"models: detector {ex['models'].get('detector')}, embedder {ex['models'].get('embedder')}")
    cl = summary.get("cluster")
    if cl:
        lines.append(
            f"clusters: {cl['clusters']}  unassigned faces: {cl['unassigned']}"
            f"  (set aside by quality: {cl['set_aside']} {cl['set_aside_reasons'] or ''})"
            f"  clusterer: {cl['clusterer'].get('name')}  {cl['seconds']:.1f}s"
        )
    fixes = (cl or {}).get("corrections")
    if fixes:
        lines.append(f"corrections: {fixes['names']} names, {fixes['merge']} merges, {fixes['not']} not, "
                     f"{fixes['ignore']} ignored; {len(fixes['unhonoured'])} not honoured")  # fmt: skip
        lines += [f"  not honoured: {note}" for note in fixes["unhonoured"]]
    metrics = summary.get("metrics")
    if metrics:
        keys = ("nmi", "ari", "bcubed_f", "pairwise_f", "purity", "accuracy")
        lines.append("metrics: " + "  ".join(f"{k} {metrics[k]:.3f}" for k in keys if k in metrics))
    tune = summary.get("tune")
    if tune:
        best = f"best {tune['metric']} {tune['best_value']:.3f}" if tune["best_value"] is not None else "no trial succeeded"
        lines.append(f"tune: {tune['trials']} trials ({tune['failed']} failed), {best}; results in {tune['files'][0]}")
    return "\n".join(lines)
