"""The backup schedule inside `mrs serve`: daily backup, monthly restore drill, catch-up.

The runner calls the job every minute in the process holding the "backup" leader lock.
Whether work is due is decided from the cron schedule (in the site's time zone) and the
backup_run history, so a run missed while the service was down happens at the next start,
and a failed run is retried after MRS_BACKUP_RETRY_MINUTES rather than every minute.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from croniter import croniter
from sqlalchemy import func, select

from mrs.background import Job, JobContext, JobFunction
from mrs.clock import Clock
from mrs.db.engine import Database
from mrs.ops import history
from mrs.ops.models import BackupRun, RunKind, RunStatus
from mrs.settings import Settings

logger = logging.getLogger(__name__)


def previous_fire(schedule: str, tz: ZoneInfo, now: datetime) -> datetime:
    """The latest time at or before `now` the cron `schedule` fired (aware)."""
    local = now.astimezone(tz)
    # croniter.get_prev is strict: step one second ahead so an exact hit counts.
    fired = croniter(schedule, local + timedelta(seconds=1)).get_prev(datetime)
    return fired


def is_due(
    *,
    schedule: str,
    tz: ZoneInfo,
    now: datetime,
    last_success: datetime | None,
    last_attempt: datetime | None,
    retry_after: timedelta,
) -> bool:
    """Due when nothing succeeded since the last fire time and no attempt is too recent."""
    fired = previous_fire(schedule, tz, now)
    if last_success is not None and last_success >= fired:
        return False
    if last_attempt is not None and last_attempt >= fired:
        return now - last_attempt >= retry_after
    return True


@dataclass(frozen=True)
class LastRuns:
    success: datetime | None
    attempt: datetime | None


async def last_runs(db: Database, kind: RunKind) -> LastRuns:
    async with db.snapshot() as session:
        success = await session.scalar(
            select(func.max(BackupRun.started_at)).where(
                BackupRun.kind == kind.value, BackupRun.status == RunStatus.SUCCEEDED.value
            )
        )
        attempt = await session.scalar(
            select(func.max(BackupRun.started_at)).where(BackupRun.kind == kind.value)
        )
    return LastRuns(success, attempt)


def make_backup_job(settings: Settings, db: Database, clock: Clock) -> JobFunction:
    """The function the background runner calls every minute (as the backup leader)."""
    from mrs.ops import service

    retry = timedelta(minutes=settings.backup_retry_minutes)

    def due(schedule: str, runs: LastRuns) -> bool:
        return is_due(
            schedule=schedule,
            tz=settings.tz,
            now=clock(),
            last_success=runs.success,
            last_attempt=runs.attempt,
            retry_after=retry,
        )

    async def backup_job() -> None:
        # Even with the schedule off, a run killed elsewhere (CLI, OS timer) must alert.
        await asyncio.to_thread(history.fail_stale_runs, settings, clock())
        if not settings.backup_enabled:
            return
        runs = await last_runs(db, RunKind.BACKUP)
        if due(settings.backup_schedule, runs):
            logger.info("scheduled backup starting")
            # pg_dump, checksums and the scratch restore block: keep them off the event loop.
            await asyncio.to_thread(service.run_backup, settings, trigger="schedule")
            runs = await last_runs(db, RunKind.BACKUP)
        if runs.success is None:
            return  # nothing to drill on yet
        if due(settings.backup_drill_schedule, await last_runs(db, RunKind.DRILL)):
            logger.info("scheduled restore drill starting")
            await asyncio.to_thread(service.run_drill, settings)

    return backup_job


def jobs(context: JobContext) -> list[Job]:
    """The backup schedule, checked every minute by the "backup" leader.

    The first check waits a minute: start-up (and short-lived processes) stay light.
    """
    return [
        Job(
            "backup",
            make_backup_job(context.settings, context.db, context.clock),
            interval_seconds=60,
            leader_lock="backup",
            initial_delay_seconds=60,
        )
    ]
