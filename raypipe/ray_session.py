"""Connecting to Ray: an existing cluster when one is named, else an embedded local one.

Ray's own messages go to the run's log file, not the console (:mod:`raypipe.console`); the
workers' output stays in Ray's session log folder, which the run's log file names.
"""

from __future__ import annotations

import logging
import os

from raypipe.console import route_library_logging

log = logging.getLogger(__name__)


def ensure_ray(address: str | None = None) -> None:
    """Initialise Ray once per process: ``address`` or ``RAY_ADDRESS``, else a local instance."""
    import ray

    if ray.is_initialized():
        return
    route_library_logging()
    target = address or os.environ.get("RAY_ADDRESS")
    if target:
        log.info("connecting to the Ray cluster at %s", target)
        ray.init(address=target, log_to_driver=False)
    else:
        log.info("starting a local Ray instance")
        ray.init(include_dashboard=False, log_to_driver=False)
    _quiet_ray_data()
    node = getattr(ray._private.worker, "_global_node", None)
    if node is not None:
        logging.getLogger("ray").info("Ray's logs (its workers' output included): %s", node.get_logs_dir_path())


def _quiet_ray_data() -> None:
    """raypipe draws its own progress line (:class:`raypipe.console.Progress`)."""
    from ray.data import DataContext

    route_library_logging()  # ray.data sets up its loggers when imported
    context = DataContext.get_current()
    context.enable_progress_bars = False
    context.print_on_execution_start = False
