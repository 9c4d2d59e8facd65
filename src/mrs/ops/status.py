"""The backup status the monitoring domain reads (health component, alert rule)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from mrs.db.engine import Database
from mrs.ops.metrics import BACKUP_LAST_SUCCESS
from mrs.ops.models import BackupRun, RunKind, RunStatus


@dataclass(frozen=True)
class BackupStatus:
    """The last good backup and the last failure of any backup operation."""

    last_success_at: datetime | None
    last_failure_at: datetime | None
    last_error: str | None
    last_success_path: str | None


async def backup_status(db: Database) -> BackupStatus:
    """Read from `backup_run`: the last successful BACKUP, the last FAILED run of any kind.

    A failed verify, prune or drill counts as a failure too (each must raise the alert);
    the failure's message starts with its kind.
    """
    async with db.snapshot() as session:
        success = (
            await session.execute(
                select(BackupRun.finished_at, BackupRun.path)
                .where(
                    BackupRun.kind == RunKind.BACKUP.value,
                    BackupRun.status == RunStatus.SUCCEEDED.value,
                )
                .order_by(BackupRun.finished_at.desc(), BackupRun.run_id.desc())
                .limit(1)
            )
        ).first()
        failure = (
            await session.execute(
                select(BackupRun.finished_at, BackupRun.kind, BackupRun.error)
                .where(BackupRun.status == RunStatus.FAILED.value)
                .order_by(BackupRun.finished_at.desc(), BackupRun.run_id.desc())
                .limit(1)
            )
        ).first()
    if success is not None and success.finished_at is not None:
        # From the history, not process memory: a backup made by `mrs backup create` or
        # an OS timer counts as much as one made inside this process.
        BACKUP_LAST_SUCCESS.set(success.finished_at.timestamp())
    return BackupStatus(
        last_success_at=success.finished_at if success else None,
        last_failure_at=failure.finished_at if failure else None,
        last_error=f"{failure.kind}: {failure.error}" if failure else None,
        last_success_path=success.path if success else None,
    )


async def refresh_backup_metrics(db: Database) -> None:
    """Set the last-success gauge from `backup_run` before a scrape (best effort: a
    database outage must not take /metrics down with it)."""
    with contextlib.suppress(SQLAlchemyError, OSError):
        await backup_status(db)


async def recent_runs(db: Database, *, limit: int = 20) -> list[BackupRun]:
    """The newest backup_run rows (for the dashboard), newest first."""
    async with db.snapshot() as session:
        result = await session.scalars(
            select(BackupRun)
            .order_by(BackupRun.started_at.desc(), BackupRun.run_id.desc())
            .limit(limit)
        )
        return list(result)
