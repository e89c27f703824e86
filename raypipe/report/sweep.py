"""The sweep of a run (``RUN/tune/results.csv``, one row per trial): its metric and parameters."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from raypipe.report.svg import PALETTE, scatter

#: The metric a chart shows: the first of these the table has (a column named so, or ending so).
METRIC_PREFERENCE = (
    "bcubed_f",
    "nmi",
    "ari",
    "pairwise_f",
    "accuracy",
    "purity",
    "score",
    "silhouette",
)
#: Prefixes of parameter columns (Ray Tune's result frames, MLflow); without any, every other
#: column that varies between trials and is not a known metric or bookkeeping counts as one.
PARAM_PREFIXES = ("config/", "config.", "params.", "param.")
BOOKKEEPING = {"trial_id", "experiment_id", "date", "timestamp", "time_this_iter_s", "time_total_s",
               "pid", "hostname", "node_ip", "done", "training_iteration", "iterations_since_restore",
               "time_since_restore", "logdir", "path", "status", "error"}  # fmt: skip


@dataclass
class Sweep:
    table: pd.DataFrame
    metric: str
    params: list[str]


def metric_column(columns: list[str]) -> str | None:
    for name in METRIC_PREFERENCE:
        for column in columns:
            if column == name or column.endswith(("/" + name, "." + name)):
                return column
    return None


def is_metric(column: str) -> bool:
    return metric_column([column]) is not None or column.startswith(("metrics/", "metrics."))


def param_columns(table: pd.DataFrame) -> list[str]:
    """Columns holding the trials' settings that differ between trials."""
    prefixed = [c for c in table.columns if c.startswith(PARAM_PREFIXES)]
    candidates = prefixed or [c for c in table.columns if c not in BOOKKEEPING and not is_metric(c)]
    return [c for c in candidates if table[c].astype(str).nunique() > 1]


def load_sweep(path: Path) -> Sweep | None:
    """The sweep table at ``path``; None when it is absent, empty or has no known metric."""
    if not path.exists():
        return None
    table = pd.read_csv(path)
    metric = metric_column(list(table.columns))
    if table.empty or metric is None:
        return None
    table = table.sort_values(metric, ascending=False, na_position="last").reset_index(drop=True)
    return Sweep(table, metric, param_columns(table))


def short_name(column: str) -> str:
    for prefix in PARAM_PREFIXES:
        column = column.removeprefix(prefix)
    return column


def param_chart(sweep: Sweep, param: str) -> str:
    """SVG of the metric against one parameter: numeric on a linear axis, else one slot per value."""
    rows = sweep.table.dropna(subset=[sweep.metric])
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
