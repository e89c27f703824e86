"""Connecting to Ray: an existing cluster when one is named, else an embedded local one.

Ray's own messages go to the run's log file, not the console (:mod:`raypipe.console`); the
workers' output stays in Ray's session log folder, which the run's log file names.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager

from raypipe.console import route_library_logging
from raypipe.errors import USER_ERRORS

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


@contextmanager
def user_errors_from_workers() -> Iterator[None]:
    """Within it, a user error raised by a Ray Data worker (a bad setting of a detector, a model
    file that is not there: :data:`raypipe.errors.USER_ERRORS`) reaches the caller as itself, so
    that the command line says it in one line instead of printing Ray's traceback."""
    import ray.exceptions
    from ray.data import DataContext

    context = DataContext.get_current()
    before, context.raise_original_map_exception = context.raise_original_map_exception, True
    try:
        yield
    except ray.exceptions.RayTaskError as err:
        if isinstance(err.cause, USER_ERRORS):
            raise without_retry_advice(err.cause) from None
        raise
    finally:
        context.raise_original_map_exception = before


#: What Ray Data appends to a failed task's error: "Failed to ... attempts (total backoff ...)".
_RETRY_ADVICE = re.compile(r"\n?Failed to [^\n]* attempts \(total backoff .*", re.DOTALL)


def without_retry_advice(error: BaseException) -> BaseException:
    """``error`` with its message as the worker raised it, Ray Data's retry advice taken off."""
    args = (_RETRY_ADVICE.sub("", arg) if isinstance(arg, str) else arg for arg in error.args)
    error.args = tuple(arg for arg in args if arg != "")
    return error
