"""The backup job inside `mrs serve`: catch-up at start, drill, retry pacing, history."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.engine import make_url

from mrs.background import BackgroundRunner
from mrs.clock import FixedClock
from mrs.db.engine import Database
from mrs.ops.backup import list_backups
from mrs.ops.models import BackupRun
from mrs.ops.schedule import make_backup_job
from mrs.settings import Settings
from tests import support

EngineFactory = Callable[..., Engine]


def _runs(engine: Engine) -> list[tuple[str, str, str]]:
    with engine.connect() as connection:
        return [
            (r.kind, r.status, r.trigger)
            for r in connection.execute(
                select(BackupRun.kind, BackupRun.status, BackupRun.trigger).order_by(
                    BackupRun.run_id
                )
            )
        ]


async def test_the_first_start_catches_up_then_waits_for_the_next_fire_time(
    pg_settings: Settings, engine_for: EngineFactory
) -> None:
    clock = FixedClock(datetime.now(UTC))
    db = Database(pg_settings)
    runner = BackgroundRunner(db)
    runner.add(
        "backup", make_backup_job(pg_settings, db, clock), interval_seconds=60, leader_lock="backup"
    )
    try:
        await runner.run_once("backup")
        assert runner.states()[0].last_error is None
        assert _runs(engine_for(pg_settings)) == [
            ("BACKUP", "SUCCEEDED", "schedule"),
            ("VERIFY", "SUCCEEDED", "schedule"),
            ("PRUNE", "SUCCEEDED", "schedule"),
            ("DRILL", "SUCCEEDED", "schedule"),
        ]
        await runner.run_once("backup")  # a minute later: nothing is due
        assert len(_runs(engine_for(pg_settings))) == 4
        clock.now += timedelta(days=1)
        await runner.run_once("backup")
        assert len(list_backups(pg_settings)) == 2
    finally:
        await db.dispose()


async def test_a_failing_scheduled_backup_is_retried_later_not_every_minute(
    pg_settings: Settings, engine_for: EngineFactory
) -> None:
    broken = pg_settings.model_copy(
        update={
            "backup_database_url": make_url(pg_settings.database_url)
            .set(port=support.free_port())
            .render_as_string(hide_password=False)
        }
    )
    clock = FixedClock(datetime.now(UTC))
    db = Database(broken)
    runner = BackgroundRunner(db)
    runner.add("backup", make_backup_job(broken, db, clock), interval_seconds=60)
    try:
        await runner.run_once("backup")
        assert runner.states()[0].last_error is not None
        assert "Cannot connect" in runner.states()[0].last_error
        await runner.run_once("backup")
        assert _runs(engine_for(pg_settings)) == [("BACKUP", "FAILED", "schedule")]
        clock.now += timedelta(minutes=broken.backup_retry_minutes + 1)
        await runner.run_once("backup")
        assert [r[:2] for r in _runs(engine_for(pg_settings))] == [
            ("BACKUP", "FAILED"),
            ("BACKUP", "FAILED"),
        ]
    finally:
        await db.dispose()


async def test_the_app_registers_the_backup_job_as_a_leader_job(app: object) -> None:
    states = app.state.background.states()  # type: ignore[attr-defined]
    backup = [s for s in states if s.name == "backup"]
    assert len(backup) == 1
    assert backup[0].leader_lock == "backup"
    assert backup[0].interval_seconds == 60


async def test_a_run_left_running_by_a_dead_process_is_marked_failed(
    pg_settings: Settings, engine_for: EngineFactory
) -> None:
    from sqlalchemy import insert

    from mrs.ops.history import fail_stale_runs
    from mrs.ops.status import backup_status, recent_runs

    now = datetime.now(UTC)
    with engine_for(pg_settings).begin() as connection:
        for hours in (7, 1):
            connection.execute(
                insert(BackupRun).values(
                    kind="BACKUP",
                    status="RUNNING",
                    trigger="schedule",
                    started_at=now - timedelta(hours=hours),
                )
            )
    db = Database(pg_settings)
    try:
        assert fail_stale_runs(pg_settings, now) == 1
        runs = await recent_runs(db)
        assert [r.status for r in runs] == ["RUNNING", "FAILED"]
        status = await backup_status(db)
        assert status.last_error is not None
        assert status.last_error.startswith("BACKUP: interrupted")
    finally:
        await db.dispose()
