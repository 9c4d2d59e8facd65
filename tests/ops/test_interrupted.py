"""Backups and restores killed (a real SIGKILL) half-way, and the run that comes after."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import Engine, delete, func, insert, select
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from mrs.cli import app as cli
from mrs.db.engine import Database
from mrs.ops import backup as backups
from mrs.ops import pgtools, service
from mrs.ops.errors import BackupFailed
from mrs.ops.models import BackupRun
from mrs.ops.status import backup_status
from mrs.reservations.models import Reservation
from mrs.settings import Settings
from tests import support
from tests.ops.conftest import fill

EngineFactory = Callable[..., Engine]
KILL_WAIT_SECONDS = 90.0


def _env(settings: Settings, pause_at: str) -> dict[str, str]:
    return {
        **os.environ,
        "MRS_DATABASE_URL": settings.effective_database_url,
        "MRS_DATA_DIR": str(settings.data_dir),
        "MRS_BACKUP_DIR": str(settings.effective_backup_dir),
        "MRS_SECRET_KEY": settings.secret_key,
        "MRS_TEST_PAUSE_AT": pause_at,
    }


def _kill_at(settings: Settings, point: str, *args: str) -> None:
    """Run `mrs <args>` and SIGKILL it when it reaches the pause point `point`."""
    marker = settings.data_dir / f"paused-{point}"
    log = settings.data_dir.parent / f"killed-{point}.log"
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "mrs", *args],
            env=_env(settings, point),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + KILL_WAIT_SECONDS
        while not marker.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"`mrs {' '.join(args)}` never reached {point}:\n{log.read_text()}")
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=10) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
    marker.unlink()


def _databases(prefix: str) -> set[str]:
    with psycopg.connect(support.database_url("postgres").replace("+psycopg", "")) as admin:
        rows = admin.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s", (f"{prefix}%",)
        ).fetchall()
    return {row[0] for row in rows}


def journal_path(settings: Settings) -> Path:
    from mrs.ops.switch import journal_path as path

    return path(settings)


def _reservations(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(Reservation)) or 0)


def _cli(settings: Settings, *args: str) -> str:
    result = CliRunner().invoke(cli, list(args), env=_env(settings, ""))
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize(
    ("point", "command"),
    [
        ("restore-before-rename", ["db", "recover"]),
        ("restore-between-renames", ["db", "recover"]),
        ("restore-between-renames", ["backup", "restore", "--resume"]),
    ],
)
def test_a_restore_killed_at_the_switch_is_finished_by_recovery(
    pg_settings: Settings, engine_for: EngineFactory, point: str, command: list[str]
) -> None:
    live = make_url(pg_settings.database_url).database
    assert live is not None
    engine = engine_for(pg_settings)
    fill(engine, rooms=2, days=3, slots=4)
    made = service.run_backup(pg_settings).backup
    with engine.begin() as connection:
        connection.execute(delete(Reservation).where(Reservation.reservation_id > 5))
    engine.dispose()
    try:
        _kill_at(pg_settings, point, "backup", "restore", made.name, "--yes")
        assert journal_path(pg_settings).is_file()
        if point == "restore-between-renames":
            assert live not in _databases(live)  # the reported outage: no live database

        output = _cli(pg_settings, *command)

        assert "holds the restored data" in output
        assert live in _databases(live)
        assert _reservations(engine) == 24  # the backup's rows, not the 5 left after it
        assert not journal_path(pg_settings).exists()
        assert len({n for n in _databases(live) if "_before_restore_" in n}) == 1
        assert not {n for n in _databases(live) if "_restoring_" in n}
        assert "nothing to do" in _cli(pg_settings, "db", "recover")
    finally:
        engine.dispose()
        for name in _databases(f"{live}_"):
            support.drop_database(name)


def test_a_restore_killed_between_the_renames_can_be_rolled_back(
    pg_settings: Settings, engine_for: EngineFactory
) -> None:
    live = make_url(pg_settings.database_url).database
    assert live is not None
    engine = engine_for(pg_settings)
    fill(engine, rooms=2, days=3, slots=4)
    made = service.run_backup(pg_settings).backup
    with engine.begin() as connection:
        connection.execute(delete(Reservation).where(Reservation.reservation_id > 5))
    engine.dispose()
    try:
        _kill_at(pg_settings, "restore-between-renames", "backup", "restore", made.name, "--yes")

        output = _cli(pg_settings, "db", "recover", "--rollback")

        assert "rolled back" in output
        assert _reservations(engine) == 5  # as it was before the restore
        assert _databases(f"{live}_") == set()
        assert not journal_path(pg_settings).exists()
    finally:
        engine.dispose()
        for name in _databases(f"{live}_"):
            support.drop_database(name)


def test_a_restore_killed_while_restoring_leaves_the_live_database_and_drops_the_new_one(
    pg_settings: Settings, engine_for: EngineFactory
) -> None:
    live = make_url(pg_settings.database_url).database
    assert live is not None
    engine = engine_for(pg_settings)
    fill(engine, rooms=1, days=2, slots=2)
    made = service.run_backup(pg_settings).backup
    try:
        _kill_at(pg_settings, "restore-into-new", "backup", "restore", made.name, "--yes")
        assert any("_restoring_" in n for n in _databases(f"{live}_"))

        output = _cli(pg_settings, "db", "recover")

        assert "had not reached the switch" in output
        assert _databases(f"{live}_") == set()
        assert _reservations(engine) == 4
    finally:
        engine.dispose()
        for name in _databases(f"{live}_"):
            support.drop_database(name)


def test_a_backup_killed_half_way_is_cleaned_up_and_marked_failed_by_the_next_run(
    pg_settings: Settings, engine_for: EngineFactory
) -> None:
    engine = engine_for(pg_settings)
    fill(engine, rooms=1, days=2, slots=2)
    _kill_at(pg_settings, "backup-dumped", "backup", "create")
    directory = pg_settings.effective_backup_dir
    assert [p.name for p in directory.glob("*.partial")] != []
    with engine.connect() as connection:
        assert connection.scalar(select(BackupRun.status)) == "RUNNING"

    result = service.run_backup(pg_settings)

    assert [p.name for p in directory.glob("*.partial")] == []
    assert [b.path for b in backups.list_backups(pg_settings)] == [result.backup.path]
    with engine.connect() as connection:
        first = connection.execute(
            select(BackupRun.status, BackupRun.error).order_by(BackupRun.run_id).limit(1)
        ).one()
    assert first.status == "FAILED"
    assert first.error.startswith("interrupted")


def test_a_verify_killed_half_way_leaves_no_scratch_database_after_the_next_one(
    pg_settings: Settings,
) -> None:
    made = service.run_backup(pg_settings, verify=False).backup
    before = _databases("mrs_verify_")
    _kill_at(pg_settings, "verify-scratch", "backup", "verify", made.name)
    left = _databases("mrs_verify_") - before
    assert len(left) == 1

    service.run_verify(pg_settings, made)

    assert not (_databases("mrs_verify_") & left)


def test_a_failing_backup_names_the_stage_and_the_file(
    pg_settings: Settings, tmp_path: Path
) -> None:
    real = pgtools.find_tool("pg_dump", pg_settings, 0)
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "pg_dump").write_text(
        f'#!/bin/sh\nif [ "$1" = "--version" ]; then exec {real} --version; fi\n'
        'echo "pg_dump: error: could not write to output file: No space left on device" >&2\n'
        "exit 1\n"
    )
    (fake / "pg_dump").chmod(0o755)
    broken = pg_settings.model_copy(update={"pg_bin_dir": fake})

    with pytest.raises(BackupFailed) as failure:
        service.run_backup(broken)

    message = str(failure.value)
    assert "pg_dump into" in message
    assert str(pg_settings.effective_backup_dir) in message
    assert "No space left on device" in message
    assert list(pg_settings.effective_backup_dir.glob("mrs-*")) == []


def test_a_directory_in_the_way_names_the_stage(pg_settings: Settings, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    broken = pg_settings.model_copy(update={"backup_dir": blocker})

    with pytest.raises(BackupFailed, match="prepare the backup directory"):
        service.run_backup(broken)


async def test_the_last_success_metric_is_read_from_the_history(
    pg_settings: Settings, engine_for: EngineFactory
) -> None:
    # A backup made by another process (the CLI, an OS timer): only the table knows it.
    finished = datetime(2031, 5, 6, 7, 8, 9, tzinfo=UTC)
    with engine_for(pg_settings).begin() as connection:
        connection.execute(
            insert(BackupRun).values(
                kind="BACKUP",
                status="SUCCEEDED",
                trigger="manual",
                started_at=finished - timedelta(seconds=3),
                finished_at=finished,
            )
        )
    db = Database(pg_settings)
    try:
        await backup_status(db)
    finally:
        await db.dispose()
    value = REGISTRY.get_sample_value("mrs_backup_last_success_timestamp_seconds")
    assert value == finished.timestamp()
