"""Connecting to Ray: an existing cluster when one is named, else an embedded local one."""

from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)


def ensure_ray(address: str | None = None) -> None:
    """Initialise Ray once per process: ``address`` or ``RAY_ADDRESS``, else a local instance."""
    import ray

    if ray.is_initialized():
        return
    target = address or os.environ.get("RAY_ADDRESS")
    if target:
        log.info("connecting to the Ray cluster at %s", target)
        ray.init(address=target, log_to_driver=True)
    else:
        log.info("starting a local Ray instance")
        ray.init(include_dashboard=False, log_to_driver=True)
    _quiet_ray_data()


def _quiet_ray_data() -> None:
    from ray.data import DataContext

    context = DataContext.get_current()
    context.enable_progress_bars = True
    context.print_on_execution_start = False
