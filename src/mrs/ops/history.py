"""Recording operations in the `backup_run` table (synchronous: operations run in threads).

A run is written as RUNNING when it starts and completed when it ends, so a crashed run is
visible too. Recording must never hide the operation's own outcome: when the history
database itself is unreachable the failure is logged and the operation's error still
propagates.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from mrs.clock import system_clock
from mrs.db.engine import make_sync_engine
from mrs.db.errors import first_line
from mrs.ops.models import BackupRun, RunKind, RunStatus
from mrs.settings import Settings

logger = logging.getLogger(__name__)


@dataclass
class RunOutcome:
    """What the operation reports about itself while it runs."""

    path: str | None = None
    size_bytes: int | None = None
    detail: str | None = None
    extra: dict[str, object] = field(default_factory=dict)


# A RUNNING row says which process runs it, so a run whose process is gone is recognised.
_RUNNER = re.compile(r"^running: pid (\d+) on (.+)$")


def _runner_detail() -> str:
    return f"running: pid {os.getpid()} on {socket.gethostname()}"


def _process_gone(detail: str | None) -> bool:
    """True when `detail` names a process of this host that no longer exists."""
    match = _RUNNER.match(detail or "")
    if match is None or match.group(2) != socket.gethostname():
        return False
    try:
        os.kill(int(match.group(1)), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, owned by another user
    return False


def _fail_stale_runs_on(connection: Connection, settings: Settings, now: datetime) -> int:
    cutoff = now - timedelta(minutes=settings.backup_stale_run_minutes)
    rows = connection.execute(
        select(BackupRun.run_id, BackupRun.started_at, BackupRun.detail).where(
            BackupRun.status == RunStatus.RUNNING.value
        )
    ).all()
    stale = [r.run_id for r in rows if r.started_at < cutoff or _process_gone(r.detail)]
    if stale:
        connection.execute(
            update(BackupRun)
            .where(BackupRun.run_id.in_(stale), BackupRun.status == RunStatus.RUNNING.value)
            .values(
                status=RunStatus.FAILED.value,
                finished_at=now,
                error="interrupted: the process stopped before the run finished "
                "(killed, crashed or its host went down)",
            )
        )
        logger.warning("marked %d interrupted backup run(s) as failed", len(stale))
    return len(stale)


def fail_stale_runs(settings: Settings, now: datetime | None = None) -> int:
    """Mark runs left RUNNING by a killed or crashed process as FAILED (so they alert).

    A run is stale when its process, on this host, is gone, or when it started longer
    than MRS_BACKUP_STALE_RUN_MINUTES ago (a process of another host).
    """
    engine = make_sync_engine(settings)
    try:
        with engine.begin() as connection:
            return _fail_stale_runs_on(connection, settings, now or system_clock())
    finally:
        engine.dispose()


def _write_start(settings: Settings, kind: RunKind, trigger: str) -> int | None:
    engine = make_sync_engine(settings)
    try:
        with engine.begin() as connection:
            # Every new run first settles the runs of processes that died.
            _fail_stale_runs_on(connection, settings, system_clock())
            run_id = connection.scalar(
                insert(BackupRun)
                .values(
                    kind=kind.value,
                    status=RunStatus.RUNNING.value,
                    trigger=trigger,
                    started_at=system_clock(),
                    detail=_runner_detail(),
                )
                .returning(BackupRun.run_id)
            )
            return int(run_id) if run_id is not None else None
    except SQLAlchemyError as exc:
        logger.warning("cannot record the start of a %s run: %s", kind.value, first_line(exc))
        return None
    finally:
        engine.dispose()


def _write_end(
    settings: Settings,
    run_id: int | None,
    kind: RunKind,
    trigger: str,
    *,
    started_at: object,
    seconds: float,
    outcome: RunOutcome,
    error: str | None,
) -> None:
    values = {
        "status": RunStatus.FAILED.value if error else RunStatus.SUCCEEDED.value,
        "finished_at": system_clock(),
        "duration_seconds": round(seconds, 3),
        "path": outcome.path,
        "size_bytes": outcome.size_bytes,
        "error": error[:4000] if error else None,
        "detail": outcome.detail,
    }
    engine = make_sync_engine(settings)
    try:
        with engine.begin() as connection:
            updated = 0
            if run_id is not None:
                updated = connection.execute(
                    update(BackupRun).where(BackupRun.run_id == run_id).values(**values)
                ).rowcount
            if not updated:
                # The row is gone (a restore replaced the table) or was never written.
                connection.execute(
                    insert(BackupRun).values(
                        kind=kind.value, trigger=trigger, started_at=started_at, **values
                    )
                )
    except SQLAlchemyError as exc:
        logger.warning("cannot record the end of a %s run: %s", kind.value, first_line(exc))
    finally:
        engine.dispose()


@contextmanager
def recorded(settings: Settings, kind: RunKind, trigger: str) -> Iterator[RunOutcome]:
    """Record the block as one run: SUCCEEDED when it ends, FAILED (with the error) if not."""
    started_at = system_clock()
    started = time.monotonic()
    run_id = _write_start(settings, kind, trigger)
    outcome = RunOutcome()
    error: str | None = None
    try:
        yield outcome
    except BaseException as exc:
        error = str(exc) or type(exc).__name__
        logger.error("%s run failed: %s", kind.value.lower(), error)
        raise
    finally:
        _write_end(
            settings,
            run_id,
            kind,
            trigger,
            started_at=started_at,
            seconds=time.monotonic() - started,
            outcome=outcome,
            error=error,
        )
