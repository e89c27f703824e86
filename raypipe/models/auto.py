"""``embedder: auto`` without a model: fetch the faceplugin models once, or say why not."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from raypipe.models import model_root
from raypipe.models.fetch import FAILED_MARKER, PACKAGE, FetchError, fetch_models

log = logging.getLogger(__name__)

#: Set to ``0`` (or ``false``/``no``/``off``) to never fetch models automatically.
ENV_SWITCH = "RAYPIPE_AUTO_FETCH"


def auto_fetch_enabled(configured: bool) -> bool:
    """``extract.auto_fetch`` unless the environment switch turns it off."""
    return configured and os.environ.get(ENV_SWITCH, "1").strip().lower() not in ("0", "false", "no", "off")


def auto_fetch_model(name: str, configured_root: str | None, enabled: bool) -> tuple[Path | None, str]:
    """``(path of the model file name, "")`` after a successful fetch, else ``(None, why not)``.

    A failed attempt leaves a marker under the model root: later runs do not retry (and do not
    wait on an offline npm again) until ``raypipe models fetch`` succeeds.
    """
    if not auto_fetch_enabled(enabled):
        return None, f"automatic fetch is off (extract.auto_fetch=false or {ENV_SWITCH}=0)"
    root = model_root(configured_root)
    marker = root / FAILED_MARKER
    if marker.is_file():
        return None, f"the automatic fetch failed before ({marker.read_text(encoding='utf-8').strip()}); `raypipe models fetch` retries"
    log.info(
        "embedder auto: no %s under %s; fetching %s with npm, once (%s=0 turns this off)",
        name, root, PACKAGE, ENV_SWITCH,
    )  # fmt: skip
    try:
        return fetch_models(configured_root)[name], ""
    except (FetchError, OSError) as err:
        try:
            root.mkdir(parents=True, exist_ok=True)
            marker.write_text(f"{time.strftime('%Y-%m-%d %H:%M')}: {err}\n", encoding="utf-8")
        except OSError:
            pass  # a read-only model root: the next run tries again
        return None, f"fetching {PACKAGE} failed: {err}"
