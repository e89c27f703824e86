"""What every job entrypoint shares: run one ``raypipe`` sub-command as a Ray job's driver.

``ray job submit --working-dir . -- python jobs/<job>.py ARGS`` starts the script on the head
node with the uploaded working directory as its current folder. The repository root goes on
``sys.path`` (so the uploaded ``raypipe`` is the one imported, installed or not), and
``RAY_ADDRESS`` defaults to ``auto``: the driver joins the cluster it runs on instead of
starting a Ray of its own.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run(command: str) -> None:
    """``raypipe COMMAND <the script's arguments>``, exiting with its status."""
    sys.path.insert(0, str(REPO))
    os.environ.setdefault("RAY_ADDRESS", "auto")
    from raypipe.cli import main

    sys.exit(main([command, *sys.argv[1:]]))
