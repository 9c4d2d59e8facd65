"""Named pause points inside long operations, so a test can SIGKILL them at an exact step.

Off unless MRS_TEST_PAUSE_AT names the point (only the test suite sets it). The paused
process writes `paused-<point>` into the data directory and sleeps; the test waits for the
file, kills the process and checks that the next run (or `mrs db recover`) repairs it.
"""

from __future__ import annotations

import os
import time

from mrs.settings import Settings

# Long enough for any test to kill the process, bounded so a forgotten hook cannot hang.
PAUSE_SECONDS = 120.0


def pause_point(settings: Settings, point: str) -> None:
    """Stop here for a while when the settings name this point; otherwise do nothing."""
    if point not in {p.strip() for p in settings.test_pause_at.split(",") if p.strip()}:
        return
    marker = settings.ensure_data_dir() / f"paused-{point}"
    marker.write_text(str(os.getpid()), encoding="utf-8")
    time.sleep(PAUSE_SECONDS)
