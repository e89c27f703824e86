"""The sweeps of a run in the report: ``RUN/tune/results.csv`` (one row per Tune trial, charted
against its parameters) and the research tables ``RUN/results/*.csv``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from markupsafe import Markup

from raypipe import storage
from raypipe.layout import RunLayout
from raypipe.report.svg import PALETTE, scatter

#: Without raypipe's layout (trial, status, the optimised metric, ...), the first of these found.
METRIC_PREFERENCE = ("bcubed_f", "nmi", "ari", "pairwise_f", "accuracy", "purity", "silhouette")
#: Parameter columns: raypipe's flattened sweep config, Ray Tune's result frames, MLflow's params.
PARAM_PREFIXES = ("feature", "reducer.", "clusterer.", "config/", "params.")


@dataclass
class Sweep:
    table: pd.DataFrame
    metric: str
    params: list[str]


def metric_column(table: pd.DataFrame) -> str | None:
    """The optimised metric: third column of a raypipe sweep table, else a known metric name."""
    if list(table.columns[:2]) == ["trial", "status"] and len(table.columns) > 2:
        return str(table.columns[2])
    return next((name for name in METRIC_PREFERENCE if name in table.columns), None)


def param_columns(table: pd.DataFrame) -> list[str]:
    """Columns holding the trials' settings that differ between trials."""
    return [
        c for c in table.columns
        if c.startswith(PARAM_PREFIXES) and table[c].astype(str).nunique() > 1
    ]  # fmt: skip


def load_sweep(path: Path) -> Sweep | None:
    """The sweep table at ``path`` in its order (raypipe writes it best first).

    None when it is absent, empty or names no metric.
    """
    if not path.exists():
        return None
    table = storage.read_csv(path)
    metric = metric_column(table)
    if table.empty or metric is None:
        return None
    return Sweep(table, metric, param_columns(table))


def short_name(column: str) -> str:
    """``config/clusterer/threshold`` -> ``clusterer/threshold``: the tool's prefix left out."""
    for prefix in ("config/", "params."):
        column = column.removeprefix(prefix)
    return column


def param_chart(sweep: Sweep, param: str) -> str:
    """SVG of the metric against one parameter: numeric on a linear axis, else one slot per value."""
    rows = sweep.table.dropna(subset=[sweep.metric, param])
    values = rows[param]
    metric = rows[sweep.metric].to_numpy(dtype=float)
    numeric = pd.api.types.is_numeric_dtype(values) and values.nunique() > 2
    if numeric:
        x, ticks = values.to_numpy(dtype=float), None
    else:
        categories = sorted(values.astype(str).unique())
        x = np.array([categories.index(v) for v in values.astype(str)], dtype=float)
        ticks = list(enumerate(categories))
    titles = [f"{short_name(param)}={v}  {sweep.metric}={m:.4f}" for v, m in zip(values, metric)]
    colours = [PALETTE[0]] * len(rows)
    return scatter(x, metric, colours, titles, width=360, height=260, x_label=short_name(param),
                   y_label=sweep.metric, x_ticks=ticks)  # fmt: skip


def sweep_section(layout: RunLayout, limit: int) -> dict | None:
    sweep = load_sweep(layout.tune / "results.csv")
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

