"""Backups with real pg_dump/pg_restore: generations, verification, restore, failures."""

from __future__ import annotations

import hashlib
import stat
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine, delete, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from typer.testing import CliRunner

from mrs.cli import app as cli
from mrs.db.engine import Database
from mrs.db.migrate import head_revisions
from mrs.ops import backup as backups
from mrs.ops import canonical, service
from mrs.ops.errors import (
    BackupDamaged,
    DatabaseUnreachable,
    PgToolMissing,
    PgToolTooOld,
    RestoreFailed,
)
from mrs.ops.models import BackupRun
from mrs.ops.status import backup_status
from mrs.reservations.models import Reservation
from mrs.settings import Settings
from tests import support
from tests.ops.conftest import FIRST_DAY, fill

EngineFactory = Callable[..., Engine]


def _files(directory: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir())}


def _data_digests(engine: Engine) -> dict[str, canonical.TableDigest]:
    with engine.connect() as connection:
        return {
            t.name: canonical.digest_table(connection, t)
            for t in canonical.data_tables()
            if t.name != "backup_run"  # the restore itself adds its history row
        }


def _runs(engine: Engine) -> list[tuple[str, str]]:
    with engine.connect() as connection:
        return [
            (row.kind, row.status)
            for row in connection.execute(
                select(BackupRun.kind, BackupRun.status).order_by(BackupRun.run_id)
            )
        ]


def test_a_backup_has_a_manifest_that_describes_it(
    pg_settings: Settings, engine_for: EngineFactory
) -> None:
    fill(engine_for(pg_settings), rooms=3, days=3, slots=4)
    result = service.run_backup(pg_settings)
    made = result.backup
    assert made.path.name.startswith("mrs-")
    assert made.path.suffix == ".dump"
    manifest = made.manifest
    assert manifest is not None
    assert manifest["dialect"] == "postgresql"
    assert manifest["schema_revision"] == ",".join(sorted(head_revisions()))
    assert manifest["tables"]["reservation"]["rows"] == 36
    assert manifest["size_bytes"] == made.path.stat().st_size
    assert manifest["sha256"] == hashlib.sha256(made.path.read_bytes()).hexdigest()
    assert manifest["verification"]["ok"] is True
    assert result.verification is not None
    assert result.verification.rows > 36
    assert not list(made.path.parent.glob("*.partial"))
    assert _runs(engine_for(pg_settings)) == [
        ("BACKUP", "SUCCEEDED"),
        ("VERIFY", "SUCCEEDED"),
        ("PRUNE", "SUCCEEDED"),
    ]


def test_seven_backups_in_a_row_leave_the_newest_five(pg_settings: Settings) -> None:
    made = [service.run_backup(pg_settings).backup.path.name for _ in range(7)]
    kept = [b.path.name for b in backups.list_backups(pg_settings)]
    assert kept == sorted(made, reverse=True)[:5]
    assert {p.name for p in pg_settings.effective_backup_dir.iterdir()} == {
        *kept,
        *(f"{name}.manifest.json" for name in kept),
        backups.LOCK_FILE,
    }


def test_a_corrupted_backup_fails_verify_with_a_clear_message(pg_settings: Settings) -> None:
    made = service.run_backup(pg_settings, prune=False).backup
    raw = bytearray(made.path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    made.path.write_bytes(bytes(raw))

    with pytest.raises(BackupDamaged, match="sha256 checksum does not match"):
        backups.verify_backup(pg_settings, backups.find_backup(pg_settings, made.path.name))

    again = backups.find_backup(pg_settings, made.path.name)
    assert again.good is False
    assert again.verification is not None
    assert again.verification["ok"] is False
    result = CliRunner().invoke(
        cli,
        ["backup", "verify", str(made.path)],
        env={
            "MRS_DATABASE_URL": pg_settings.database_url,
            "MRS_DATA_DIR": str(pg_settings.data_dir),
            "MRS_BACKUP_DIR": str(pg_settings.effective_backup_dir),
        },
    )
    assert result.exit_code == 1
    assert "is damaged" in result.output
    assert "sha256 checksum does not match" in result.output


def test_a_dump_whose_content_is_broken_fails_the_scratch_restore(
    pg_settings: Settings,
) -> None:
    made = service.run_backup(pg_settings, prune=False).backup
    made.path.write_bytes(made.path.read_bytes()[:200])
    # Make the manifest agree with the truncated file: only the restore can catch it now.
    manifest = dict(made.manifest or {})
    manifest["size_bytes"] = made.path.stat().st_size
    manifest["sha256"] = hashlib.sha256(made.path.read_bytes()).hexdigest()
    backups.write_manifest(made.path, manifest)

    with pytest.raises(BackupDamaged, match="pg_restore"):
        backups.verify_backup(pg_settings, backups.find_backup(pg_settings, made.path))


def test_restore_brings_back_exactly_the_backed_up_rows_and_the_constraint(
    pg_settings: Settings, engine_for: EngineFactory
) -> None:
    engine = engine_for(pg_settings)
    fill(engine, rooms=4, days=5, slots=6)
    made = service.run_backup(pg_settings).backup
    expected = _data_digests(engine)
    with engine.begin() as connection:  # damage after the backup
        connection.execute(delete(Reservation).where(Reservation.reservation_id > 10))
    engine.dispose()

    report = service.run_restore(pg_settings, made)

    try:
        assert _data_digests(engine) == expected
        assert report.safety_backup.path.is_file()
        assert report.safety_backup.manifest is not None
        assert report.safety_backup.manifest["tables"]["reservation"]["rows"] == 10
        with engine.connect() as connection:
            constraint = connection.scalar(
                text(
                    "SELECT contype FROM pg_constraint WHERE conname = 'ex_reservation_no_overlap'"
                )
            )
        assert constraint == "x"
        with (
            pytest.raises(IntegrityError, match="ex_reservation_no_overlap"),
            engine.begin() as connection,
        ):
            connection.execute(
                insert(Reservation).values(
                    room_id=1,
                    reserved_date=FIRST_DAY,
                    start_minute=480,
                    end_minute=540,
                    user_id="ab",
                    created_at=datetime.now(UTC),
                )
            )
        assert ("RESTORE", "SUCCEEDED") in _runs(engine)
    finally:
        assert report.previous_database is not None
        support.drop_database(report.previous_database)


def test_a_failed_restore_leaves_the_database_as_it_was(
    pg_settings: Settings, engine_for: EngineFactory
) -> None:
    engine = engine_for(pg_settings)
    fill(engine, rooms=2, days=2, slots=2)
    made = service.run_backup(pg_settings).backup
    with engine.begin() as connection:
        connection.execute(delete(Reservation).where(Reservation.reservation_id > 4))
    before = _data_digests(engine)
    made.path.write_bytes(made.path.read_bytes()[:-10])

    with pytest.raises(RestoreFailed, match="left as it was"):
        service.run_restore(pg_settings, backups.find_backup(pg_settings, made.path))

    assert _data_digests(engine) == before
    assert ("RESTORE", "FAILED") in _runs(engine)
    name = make_url(pg_settings.database_url).database
    with psycopg.connect(support.database_url("postgres").replace("+psycopg", "")) as admin:
        leftovers = admin.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s", (f"{name}_%",)
        ).fetchall()
    assert leftovers == []


async def test_a_failing_backup_is_recorded_and_keeps_the_existing_generations(
    pg_settings: Settings, engine_for: EngineFactory
) -> None:
    service.run_backup(pg_settings)
    service.run_backup(pg_settings)
    directory = pg_settings.effective_backup_dir
    before = _files(directory)
    # The backup connects as a role that does not exist (trust auth here ignores passwords).
    broken = pg_settings.model_copy(
        update={
            "backup_database_url": make_url(pg_settings.database_url)
            .set(username="no_such_role", password="wrong")
            .render_as_string(hide_password=False)
        }
    )

    with pytest.raises(DatabaseUnreachable, match="no_such_role"):
        service.run_backup(broken)

    assert _files(directory) == before
    assert _runs(engine_for(pg_settings))[-1] == ("BACKUP", "FAILED")
    db = Database(pg_settings)
    try:
        status = await backup_status(db)
    finally:
        await db.dispose()
    assert status.last_failure_at is not None
    assert status.last_success_at is not None
    assert status.last_failure_at > status.last_success_at
    assert status.last_error is not None
    assert status.last_error.startswith("BACKUP: Cannot connect")
    assert "wrong" not in status.last_error  # the password is never recorded
    assert status.last_success_path == str(backups.list_backups(pg_settings)[0].path)


def test_an_unreachable_server_fails_the_backup_cleanly(pg_settings: Settings) -> None:
    service.run_backup(pg_settings)
    before = _files(pg_settings.effective_backup_dir)
    unreachable = pg_settings.model_copy(
        update={
            "backup_database_url": make_url(pg_settings.database_url)
            .set(port=support.free_port())
            .render_as_string(hide_password=False)
        }
    )
    with pytest.raises(DatabaseUnreachable, match="Cannot connect"):
        service.run_backup(unreachable)
    assert _files(pg_settings.effective_backup_dir) == before


def test_a_missing_pg_dump_is_named(pg_settings: Settings, tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    settings = pg_settings.model_copy(update={"pg_bin_dir": empty})
    with pytest.raises(PgToolMissing, match="pg_dump was not found"):
        backups.create_backup(settings)
    assert [p.name for p in settings.effective_backup_dir.iterdir()] == [backups.LOCK_FILE]


def test_a_pg_dump_older_than_the_server_is_refused(pg_settings: Settings, tmp_path: Path) -> None:
    # A stand-in for an old client: only its version answer matters, it is never run further.
    old = tmp_path / "bin"
    old.mkdir()
    script = old / "pg_dump"
    script.write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 11.22'\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    settings = pg_settings.model_copy(update={"pg_bin_dir": old})
    with pytest.raises(PgToolTooOld, match=r"version 11, older than the server \(version 15\)"):
        backups.create_backup(settings)


def test_sqlite_backup_verify_and_restore(
    sqlite_settings: Settings, engine_for: EngineFactory
) -> None:
    engine = engine_for(sqlite_settings)
    fill(engine, rooms=2, days=3, slots=4)
    result = service.run_backup(sqlite_settings)
    made = result.backup
    assert made.path.suffix == ".sqlite3"
    assert result.verification is not None
    expected = _data_digests(engine)
    with engine.begin() as connection:
        connection.execute(delete(Reservation))

    service.run_restore(sqlite_settings, made)

    assert _data_digests(engine) == expected
