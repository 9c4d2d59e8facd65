"""The prometheus-client multiprocess directory, prepared by `mrs serve`.

Kept apart from mrs.monitoring.metrics on purpose: preparing the directory must not import
prometheus_client, which chooses its storage (memory or shared files) at import time.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "PROMETHEUS_MULTIPROC_DIR"  # read by prometheus-client itself


def prepare_multiprocess_dir(path: Path) -> Path:
    """Empty (or create) the directory and point prometheus-client at it. Call before
    the workers start: stale files from an earlier run would add to this run's counters."""
    path.mkdir(parents=True, exist_ok=True)
    for child in path.glob("*.db"):
        child.unlink()
    os.environ[ENV_VAR] = str(path)
    return path


def multiprocess_dir() -> str | None:
    """The directory prometheus-client writes to, when multiprocess mode is on."""
    return os.environ.get(ENV_VAR) or None
