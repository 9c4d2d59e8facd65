"""Wall-clock times of day as minutes since local midnight (0..1440)."""

from __future__ import annotations

MINUTES_PER_DAY = 24 * 60


def format_minute(minute: int) -> str:
    """Minutes since midnight as "HH:MM" (1440 is "24:00")."""
    return f"{minute // 60:02d}:{minute % 60:02d}"
