"""Room housekeeping on the app's background runner."""

from __future__ import annotations

from mrs.background import Job, JobContext
from mrs.rooms import opening

JOB_NAME = "open-rooms-ahead"


def jobs(context: JobContext) -> list[Job]:
    """Keep the dates of rooms that open automatically opened MRS_OPEN_DAYS_AHEAD days
    ahead: shortly after start, then daily. One process runs it (a leader lock); a second
    run would add nothing anyway, as only missing date rows are inserted."""
    db, settings, clock = context.db, context.settings, context.clock

    async def open_ahead() -> None:
        today = clock().astimezone(settings.tz).date()
        await opening.open_ahead(db, settings=settings, today=today)

    return [
        Job(
            JOB_NAME,
            open_ahead,
            interval_seconds=24 * 3600,
            leader_lock=JOB_NAME,
            initial_delay_seconds=30,
        )
    ]
