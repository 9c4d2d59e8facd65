"""CI's short run of the 100-user load test against a real server on PostgreSQL, over
HTTPS (run_load.py's default, with a throwaway certificate).

The full run and its figures are in docs/performance.md. Locust runs in its own process
and virtual environment (gevent stays out of this one).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_hundred_users_for_thirty_seconds_without_errors_or_double_booking() -> None:
    completed = subprocess.run(
        [
            sys.executable, str(REPO / "loadtest" / "run_load.py"),
            "--users", "100", "--duration", "30s", "--spawn-rate", "25", "--scheme", "https",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )  # fmt: skip
    summary = completed.stdout[-4000:] + completed.stderr[-2000:]
    assert completed.returncode == 0, summary
    assert "PASSED" in completed.stdout
    assert "overlapping active pairs: 0" in completed.stdout
    assert "https://" in completed.stdout + completed.stderr, summary
