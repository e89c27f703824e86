"""What a command prints: raypipe's own log lines and one progress line; everything else (Ray's
messages, Python warnings, other libraries' INFO lines) goes to the run's log file,
``RUN/raypipe.log``.

Ray and MLflow configure their loggers (``ray``, ``ray.data``, ``mlflow``, ``alembic``, ...) with
console handlers of their own when they are imported; :func:`route_library_logging` takes those
off so that their records reach the root logger, whose console handler lets through only
raypipe's records (and other libraries' warnings, not Ray's), and whose file handler, while a
command runs, writes them all.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from raypipe import storage

#: Loggers whose records never reach the console: Ray's (its warnings included) and Python
#: warnings (``logging.captureWarnings``), which name library internals, not the user's input.
FILE_ONLY = ("ray", "py.warnings")
#: Libraries that give their loggers console handlers of their own.
LIBRARIES = ("ray", "mlflow", "alembic", "sqlalchemy", "huey")
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
#: Seconds between progress lines when the output is not a terminal (a log, a pipe, a job's log).
SUMMARY_SECONDS = float(os.environ.get("RAYPIPE_PROGRESS_SECONDS", "30"))
#: Seconds between redraws of the progress line on a terminal.
REDRAW_SECONDS = 0.5

_console: list[logging.Handler] = []


def _on_console(record: logging.LogRecord) -> bool:
    if record.name == "raypipe" or record.name.startswith("raypipe."):
        return True
    if any(record.name == name or record.name.startswith(f"{name}.") for name in FILE_ONLY):
        return False
    return record.levelno >= logging.WARNING


def configure_console(verbose: bool = False) -> None:
    """raypipe's log lines on stderr (DEBUG with ``verbose``); Python warnings into logging."""
    root = logging.getLogger()
    for handler in _console:
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(LOG_FORMAT, datefmt="%H:%M:%S"))
    handler.addFilter(_on_console)
    _console[:] = [handler]
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    logging.captureWarnings(True)


def route_library_logging() -> None:
    """Take the console handlers off the loggers of :data:`LIBRARIES` and let their records reach
    the root logger (the run's log file). Called after each import of a library part that sets
    up its logging (Ray's session files and other file handlers stay)."""
    names = [name for name in logging.root.manager.loggerDict if name.split(".")[0] in LIBRARIES]
    for logger in map(logging.getLogger, names):
        for handler in list(logger.handlers):
            if isinstance(handler, logging.StreamHandler) and not isinstance(handler, logging.FileHandler):
                logger.removeHandler(handler)
        logger.propagate = True


@contextlib.contextmanager
def run_log(root: Path | storage.StoragePath) -> Iterator[None]:
    """Every log record of the command (INFO and up, Ray's included) appended to
    ``root/raypipe.log``; a run folder in an object store gets the file when the command ends."""
    local = isinstance(root, Path)
    path = root / "raypipe.log" if local else Path(tempfile.mkstemp(prefix="raypipe-", suffix=".log")[1])
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler.setLevel(logging.getLogger().level)  # Ray Data's loggers pass on their DEBUG records
    logging.getLogger().addHandler(handler)
    try:
        yield
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()
        if not local:
            storage.copy_file(path, root / "raypipe.log")
            path.unlink()


class Progress:
    """Extraction progress as one line: images done / total, images/s, faces, errors, ETA.

    On a terminal the line is redrawn in place; otherwise (a log file, a pipe, a Ray job's log)
    it is printed every :data:`SUMMARY_SECONDS`, and once more at the end either way.
    """

    def __init__(self, total: int, done: int = 0, stream: TextIO | None = None, interval: float | None = None):
        self.stream = stream or sys.stderr
        self.terminal = self.stream.isatty()
        self.interval = interval if interval is not None else REDRAW_SECONDS if self.terminal else SUMMARY_SECONDS
        self.total, self.done, self.faces, self.errors = total, done, 0, 0
        self.started = self.shown = time.monotonic()
        self.last: tuple | None = None  # the counts last shown
        self.new = 0  # images of this session: the rate leaves out shards done by an earlier one
        self._show()

    def update(self, images: int, faces: int, errors: int) -> None:
        self.done, self.new, self.faces, self.errors = self.done + images, self.new + images, self.faces + faces, self.errors + errors
        if time.monotonic() - self.shown >= self.interval:
            self._show()

    def close(self) -> None:
        self._show()
        if self.terminal:
            self.stream.write("\n")
            self.stream.flush()

    def line(self) -> str:
        seconds = max(time.monotonic() - self.started, 1e-9)
        rate = self.new / seconds
        left = self.total - self.done
        eta = _clock(left / rate) if rate and left else "-" if left else "0:00"
        share = f" ({100 * self.done / self.total:.0f}%)" if self.total else ""
        speed = f"{rate:.{1 if rate >= 1 else 2}f}" if self.new else "-"
        return (f"extract: {self.done}/{self.total} images{share}  {speed} images/s  "
                f"{self.faces} faces  {self.errors} errors  ETA {eta}")  # fmt: skip

    def _show(self) -> None:
        self.shown, counts = time.monotonic(), (self.done, self.faces, self.errors)
        if self.terminal or counts != self.last:
            self.stream.write(f"\r{self.line()}\033[K" if self.terminal else f"{self.line()}\n")
            self.stream.flush()
        self.last = counts


def _clock(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
