"""Wall-clock times of day as minutes since local midnight (0..1440)."""

from __future__ import annotations

MINUTES_PER_DAY = 24 * 60


def _formatted(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


# Pages format thousands of times per request (every taken range of every room): a table
# lookup instead of string formatting each time.
_FORMATTED = tuple(_formatted(minute) for minute in range(MINUTES_PER_DAY + 1))


def format_minute(minute: int) -> str:
    """Minutes since midnight as "HH:MM" (1440 is "24:00")."""
    if 0 <= minute <= MINUTES_PER_DAY:
        return _FORMATTED[minute]
    return _formatted(minute)
