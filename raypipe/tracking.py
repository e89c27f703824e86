"""MLflow tracking: every command is a run (params = resolved config, metrics, artifacts).

The default store is a SQLite file in the working directory (MLflow 3 refuses the old
``./mlruns`` file store); artifacts of a remote run folder are fetched into a temporary folder and
uploaded from there; ``tracking.uri`` / ``--tracking-uri`` / ``MLFLOW_TRACKING_URI`` name
another (e.g. a tracking server for multi-node runs); ``tracking.enabled: false`` turns it off.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from raypipe import storage
from raypipe.config import TrackingConfig
from raypipe.storage import StoragePath

log = logging.getLogger(__name__)

DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
MAX_PARAM_LENGTH = 6000


def tracking_uri(config: TrackingConfig) -> str:
    """The configured URI, else ``MLFLOW_TRACKING_URI``, else SQLite in the working directory."""
    if config.uri:
        return config.uri
    if os.environ.get("MLFLOW_TRACKING_URI"):
        return os.environ["MLFLOW_TRACKING_URI"]
    return f"sqlite:///{Path.cwd() / 'mlflow.db'}"


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mapping -> ``{"a.b.c": value}``.

    >>> flatten({"cluster": {"clusterer": {"name": "auto"}}, "x": 1})
    {'cluster.clusterer.name': 'auto', 'x': 1}
    """
    flat: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def numeric_metrics(data: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    """The finite numbers of a (nested) mapping, flattened, for ``mlflow.log_metrics``."""
    return {
        k: float(v)
        for k, v in flatten(data, prefix).items()
        if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
    }


class Tracker:
    """One MLflow run; every method is a no-op when tracking is off."""

    def __init__(self, mlflow_module=None, run_id: str | None = None):
        self._mlflow = mlflow_module
        self.run_id = run_id

    @property
    def enabled(self) -> bool:
        return self._mlflow is not None

    def log_params(self, params: Mapping[str, Any]) -> None:
        if self.enabled:
            flat = {k: str(v)[:MAX_PARAM_LENGTH] for k, v in flatten(params).items()}
            self._mlflow.log_params(flat)

    def log_metrics(self, metrics: Mapping[str, Any], prefix: str = "", step: int | None = None) -> None:
        if self.enabled:
            values = numeric_metrics(metrics, prefix)
            if values:
                self._mlflow.log_metrics(values, step=step)

    def log_artifacts(self, *paths: str | os.PathLike | StoragePath) -> None:
        """Upload the files among ``paths`` that exist, local or in a remote run folder."""
        if not self.enabled:
            return
        with tempfile.TemporaryDirectory(prefix="raypipe-artifacts-") as folder:
            for path in map(storage.location, paths):
                if path.is_file():
                    self._mlflow.log_artifact(str(storage.local_copy(path, Path(folder))))

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        if self.enabled:
            self._mlflow.set_tags({k: str(v) for k, v in tags.items()})


@contextlib.contextmanager
def tracked_run(config: TrackingConfig, name: str, nested: bool = False, tags: Mapping[str, Any] | None = None) -> Iterator[Tracker]:
    """Start an MLflow run named ``name`` (a child of the active run when ``nested``)."""
    if not config.enabled:
        yield Tracker()
        return
    import mlflow

    from raypipe.console import route_library_logging

    route_library_logging()  # MLflow's INFO lines (database set-up, ...) go to the run's log
    mlflow.set_tracking_uri(tracking_uri(config))
    mlflow.set_experiment(config.experiment)
    with mlflow.start_run(run_name=name, nested=nested, tags=dict(tags or {})) as run:
        log.info("MLflow run %s (%s) at %s", name, run.info.run_id, mlflow.get_tracking_uri())
        yield Tracker(mlflow, run.info.run_id)
