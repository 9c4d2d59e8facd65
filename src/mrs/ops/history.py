"""Recording operations in the `backup_run` table (synchronous: operations run in threads).

A run is written as RUNNING when it starts and completed when it ends, so a crashed run is
visible too. Recording must never hide the operation's own outcome: when the history
database itself is unreachable the failure is logged and the operation's error still
propagates.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import insert, update
from sqlalchemy.exc import SQLAlchemyError

from mrs.clock import system_clock
from mrs.db.engine import make_sync_engine
from mrs.ops.connections import first_line
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


def _write_start(settings: Settings, kind: RunKind, trigger: str) -> int | None:
    engine = make_sync_engine(settings)
    try:
        with engine.begin() as connection:
            run_id = connection.scalar(
                insert(BackupRun)
                .values(
                    kind=kind.value,
                    status=RunStatus.RUNNING.value,
                    trigger=trigger,
                    started_at=system_clock(),
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
    try:
        yield outcome
    except BaseException as exc:
        message = str(exc) or type(exc).__name__
        logger.error("%s run failed: %s", kind.value.lower(), message)
        _write_end(
            settings,
            run_id,
            kind,
            trigger,
            started_at=started_at,
            seconds=time.monotonic() - started,
            outcome=outcome,
            error=message,
        )
        raise
    _write_end(
        settings,
        run_id,
        kind,
        trigger,
        started_at=started_at,
        seconds=time.monotonic() - started,
        outcome=outcome,
        error=None,
    )
