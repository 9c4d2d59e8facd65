"""Health in the Actuator style: `{"status": ..., "components": {name: {status, details}}}`.

Statuses: UP, WARN (working, but look at it), DOWN, UNKNOWN (cannot tell yet). The overall
status is the worst known one; UNKNOWN components do not count.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from mrs.background import BackgroundRunner
from mrs.db.engine import Database
from mrs.db.migrate import head_revisions
from mrs.monitoring import metrics, system
from mrs.monitoring.service import (
    bounded,
    check_database,
    ops_backup_status,
    watched_directories,
)
from mrs.notifications.service import outbox_summary
from mrs.settings import Settings

# The outbox is "stuck" when its oldest pending mail waits longer than this.
OUTBOX_STUCK_SECONDS = 15 * 60


class Status(StrEnum):
    UP = "UP"
    WARN = "WARN"
    DOWN = "DOWN"
    UNKNOWN = "UNKNOWN"


_SEVERITY = {Status.UNKNOWN: 0, Status.UP: 1, Status.WARN: 2, Status.DOWN: 3}


@dataclass
class Component:
    status: Status
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self, *, with_details: bool) -> dict[str, Any]:
        body: dict[str, Any] = {"status": self.status.value}
        if with_details and self.details:
            body["details"] = self.details
        return body


def overall(components: dict[str, Component]) -> Status:
    known = [c.status for c in components.values() if c.status != Status.UNKNOWN]
    if not known:
        return Status.UNKNOWN
    return max(known, key=lambda status: _SEVERITY[status])


async def migrations_at_head(db: Database) -> bool:
    """True when the database's Alembic revisions equal the code's heads."""
    from alembic.runtime.migration import MigrationContext

    async with db.engine.connect() as connection:
        current = await connection.run_sync(
            lambda sync: set(MigrationContext.configure(sync).get_current_heads())
        )
    return current == head_revisions()


async def db_component(db: Database, settings: Settings) -> Component:
    started = time.perf_counter()
    error = await check_database(db, settings.health_db_timeout_seconds)
    latency_ms = round((time.perf_counter() - started) * 1000, 2)
    details: dict[str, Any] = {"database": db.dialect}
    pool = metrics.pool_usage(db)
    if pool is not None:
        details["pool"] = {
            "size": pool.size,
            "inUse": pool.checked_out,
            "idle": pool.idle,
            "overflow": pool.overflow,
        }
    if db.dialect == "postgresql":
        # The request path's own pool (mrs.db.direct): where the busy statements wait.
        direct = db.direct_pool_stats()
        details["requestPool"] = {
            "max": db.settings.pool_size,
            "open": direct.get("pool_size", 0),
            "idle": direct.get("pool_available", 0),
            "waiting": direct.get("requests_waiting", 0),
        }
    if error is not None:
        details["error"] = error
        return Component(Status.DOWN, details)
    details["latencyMs"] = latency_ms
    return Component(Status.UP, details)


def disk_component(settings: Settings) -> Component:
    details: dict[str, Any] = {"thresholdPercent": settings.alert_disk_free_percent}
    status = Status.UP
    for name, path in watched_directories(settings).items():
        space = system.disk_space(path)
        if space is None:
            details[name] = {"path": str(path), "error": "cannot read"}
            status = Status.DOWN
            continue
        details[name] = {
            "path": str(path),
            "total": space.total_bytes,
            "free": space.free_bytes,
            "freePercent": round(space.free_percent, 2),
        }
        if space.free_percent < settings.alert_disk_free_percent:
            status = Status.DOWN
    return Component(status, details)


def memory_component(settings: Settings) -> Component:
    usage = metrics.current_process_usage()
    details: dict[str, Any] = {"processRss": usage.rss_bytes, "pid": os.getpid()}
    host = system.host_memory()
    if host is None:
        return Component(Status.UNKNOWN, details)
    details.update(
        hostTotal=host.total_bytes,
        hostAvailable=host.available_bytes,
        hostUsedPercent=round(host.used_percent, 2),
        thresholdPercent=settings.alert_memory_percent,
    )
    status = Status.WARN if host.used_percent > settings.alert_memory_percent else Status.UP
    return Component(status, details)


async def backup_component(db: Database, settings: Settings, now: datetime) -> Component:
    try:
        backup = await ops_backup_status(db)
    except Exception as exc:  # reading the status failed: that is itself worth showing
        return Component(Status.DOWN, {"error": f"{type(exc).__name__}"})
    if backup is None:
        return Component(Status.UNKNOWN, {"reason": "backups are not set up in this build"})
    details: dict[str, Any] = {
        "lastSuccessAt": backup.last_success_at.isoformat() if backup.last_success_at else None,
        "lastFailureAt": backup.last_failure_at.isoformat() if backup.last_failure_at else None,
        "maxAgeHours": settings.alert_backup_max_age_hours,
    }
    if backup.last_success_at is None and backup.last_failure_at is None:
        return Component(Status.UNKNOWN, details | {"reason": "no backup has run yet"})
    failed_last = backup.last_failure_at is not None and (
        backup.last_success_at is None or backup.last_failure_at > backup.last_success_at
    )
    if failed_last:
        details["lastError"] = backup.last_error
        return Component(Status.DOWN, details)
    assert backup.last_success_at is not None
    age_hours = (now - backup.last_success_at).total_seconds() / 3600
    details["ageHours"] = round(age_hours, 2)
    stale = age_hours > settings.alert_backup_max_age_hours
    return Component(Status.DOWN if stale else Status.UP, details)


def _worker_details(
    background: BackgroundRunner | None, now: datetime
) -> tuple[bool | None, dict[str, Any]]:
    """Whether every periodic job ran recently (None when no jobs run in this process)."""
    if background is None or background.started_at is None or not background.jobs:
        return None, {"running": False}
    jobs: dict[str, Any] = {}
    alive = True
    for state in background.states():
        # Dead or stuck: no round finished within three intervals (plus start-up slack).
        reference = state.last_finished_at or background.started_at
        late = (now - reference).total_seconds() > 3 * state.interval_seconds + 30
        alive = alive and not late
        jobs[state.name] = {
            "lastFinishedAt": state.last_finished_at.isoformat()
            if state.last_finished_at
            else None,
            "lastError": state.last_error,
            "runs": state.runs,
            "late": late,
        }
    return alive, {"running": True, "jobs": jobs}


async def _outbox_details(db: Database) -> tuple[bool | None, dict[str, Any]]:
    summary: dict[str, int] = await outbox_summary(db)
    oldest = summary.get("oldest_pending_seconds", 0) or 0
    return oldest <= OUTBOX_STUCK_SECONDS, dict(summary)


async def reservations_component(
    db: Database, background: BackgroundRunner | None, now: datetime, db_up: bool
) -> Component:
    """The application's own check: jobs alive, mail flowing, schema at head."""
    worker_ok, worker = _worker_details(background, now)
    details: dict[str, Any] = {"backgroundWorker": worker}
    checks: list[bool] = [] if worker_ok is None else [worker_ok]
    if db_up:
        try:
            at_head = await migrations_at_head(db)
            outbox_ok, outbox = await _outbox_details(db)
        except (SQLAlchemyError, OSError) as exc:
            details["error"] = type(exc).__name__
            return Component(Status.DOWN, details)
        details["migrationsAtHead"] = at_head
        details["mailOutbox"] = outbox
        checks.append(at_head)
        if outbox_ok is not None:
            checks.append(outbox_ok)
    else:
        details["migrationsAtHead"] = None
    if not checks:
        return Component(Status.UNKNOWN, details)
    return Component(Status.UP if all(checks) else Status.DOWN, details)


async def _within(check: Coroutine[Any, Any, Component], seconds: float) -> Component:
    """The component, or DOWN when its check does not answer within `seconds`."""
    try:
        return await bounded(check, seconds)
    except TimeoutError:
        return Component(Status.DOWN, {"error": f"no answer within {seconds:g} s"})


async def health(
    db: Database, settings: Settings, background: BackgroundRunner | None, now: datetime
) -> tuple[Status, dict[str, Component]]:
    """Check every component (the slow ones concurrently)."""
    # Each check has its own time limit: a database that stopped answering must not make
    # /health itself hang (the first one took over 30 s in such an outage).
    limit = settings.health_db_timeout_seconds
    db_part, backup_part = await asyncio.gather(
        db_component(db, settings), _within(backup_component(db, settings, now), limit)
    )
    db_up = db_part.status == Status.UP
    if not db_up:
        backup_part = Component(Status.UNKNOWN, {"reason": "the database is down"})
    components = {
        "db": db_part,
        "diskSpace": disk_component(settings),
        "memory": memory_component(settings),
        "backup": backup_part,
        "reservations": await _within(reservations_component(db, background, now, db_up), limit),
    }
    return overall(components), components


async def readiness(db: Database, settings: Settings) -> tuple[bool, dict[str, Any]]:
    """Ready for traffic: every pool the requests use answers, and the schema is at head."""
    error = await check_database(db, settings.health_db_timeout_seconds)
    if error is not None:
        return False, {"db": "DOWN"}
    try:
        at_head = await bounded(migrations_at_head(db), settings.health_db_timeout_seconds)
    except (SQLAlchemyError, OSError, TimeoutError):
        return False, {"db": "DOWN"}
    return at_head, {"db": "UP", "migrations": "UP" if at_head else "DOWN"}
