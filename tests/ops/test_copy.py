"""`mrs db copy` / `mrs db verify`: SQLite → PostgreSQL, every row proven equal."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from typer.testing import CliRunner

from mrs.cli import app as cli
from mrs.ops import canonical
from mrs.ops.copy import copy_database, verify_databases
from mrs.ops.errors import DatabasesDiffer, TargetNotEmpty
from mrs.reservations.models import Reservation
from mrs.settings import Settings
from tests.ops.conftest import FIRST_DAY, fill

EngineFactory = Callable[..., Engine]
ROOT = Path(__file__).resolve().parents[2]


def _counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {t.name: canonical.count_rows(connection, t) for t in canonical.data_tables()}


def test_copy_of_100k_reservations_is_complete_equal_and_ids_continue(
    sqlite_settings: Settings, database_url: str, engine_for: EngineFactory
) -> None:
    source = engine_for(sqlite_settings)
    data = fill(source, rooms=50, days=100, slots=20)
    assert data.reservations == 100_000
    assert data.cancelled == 20_000

    report = copy_database(
        sqlite_settings, source_url=sqlite_settings.database_url, target_url=database_url
    )

    assert report.tables["reservation"].rows == 100_000
    target = engine_for(sqlite_settings, database_url)
    assert _counts(target) == _counts(source)
    # Checked again independently of the copy: every table's content checksum is equal.
    digests = verify_databases(
        sqlite_settings, source_url=sqlite_settings.database_url, target_url=database_url
    )
    assert digests["reservation"].rows == 100_000
    with target.begin() as connection:
        cancelled = connection.scalar(select(func.count()).where(Reservation.status == "CANCELLED"))
        assert cancelled == 20_000
        new_id = connection.scalar(
            insert(Reservation)
            .values(
                room_id=1,
                reserved_date=FIRST_DAY,
                start_minute=0,
                end_minute=30,
                user_id="ab",
                created_at=datetime.now(UTC),
            )
            .returning(Reservation.reservation_id)
        )
    assert new_id == 100_001


def test_the_exclusion_constraint_still_guards_copied_data(
    sqlite_settings: Settings, database_url: str, engine_for: EngineFactory
) -> None:
    fill(engine_for(sqlite_settings), rooms=2, days=2, slots=4)
    copy_database(sqlite_settings, source_url=sqlite_settings.database_url, target_url=database_url)
    target = engine_for(sqlite_settings, database_url)
    with pytest.raises(IntegrityError, match="ex_reservation_no_overlap"), target.begin() as conn:
        conn.execute(
            insert(Reservation).values(
                room_id=1,
                reserved_date=FIRST_DAY,
                start_minute=480,
                end_minute=510,
                user_id="ab",
                created_at=datetime.now(UTC),
            )
        )


def test_a_non_empty_target_is_refused_and_left_alone(
    sqlite_settings: Settings, database_url: str, engine_for: EngineFactory
) -> None:
    fill(engine_for(sqlite_settings), rooms=2, days=2, slots=2)
    target = engine_for(sqlite_settings, database_url)
    fill(target, rooms=1, days=1, slots=1, users=10)
    before = _counts(target)

    with pytest.raises(TargetNotEmpty, match="not empty"):
        copy_database(
            sqlite_settings, source_url=sqlite_settings.database_url, target_url=database_url
        )

    assert _counts(target) == before


def test_replace_overwrites_a_non_empty_target(
    sqlite_settings: Settings, database_url: str, engine_for: EngineFactory
) -> None:
    fill(engine_for(sqlite_settings), rooms=3, days=2, slots=2)
    fill(engine_for(sqlite_settings, database_url), rooms=1, days=1, slots=1, users=10)
    copy_database(
        sqlite_settings,
        source_url=sqlite_settings.database_url,
        target_url=database_url,
        replace=True,
    )
    verify_databases(
        sqlite_settings, source_url=sqlite_settings.database_url, target_url=database_url
    )


def test_verify_names_the_table_that_differs(
    sqlite_settings: Settings, database_url: str, engine_for: EngineFactory
) -> None:
    fill(engine_for(sqlite_settings), rooms=2, days=2, slots=2)
    copy_database(sqlite_settings, source_url=sqlite_settings.database_url, target_url=database_url)
    with engine_for(sqlite_settings, database_url).begin() as connection:
        connection.execute(
            update(Reservation)
            .where(Reservation.reservation_id == 3)
            .values(created_at=datetime(2030, 1, 1, tzinfo=UTC))
        )

    with pytest.raises(DatabasesDiffer, match="reservation: same row count") as caught:
        verify_databases(
            sqlite_settings, source_url=sqlite_settings.database_url, target_url=database_url
        )
    assert caught.value.details == ["reservation: same row count (8) but different content"]

    result = CliRunner().invoke(
        cli,
        ["db", "verify", "--source", sqlite_settings.database_url, "--target", database_url],
        env={"MRS_DATA_DIR": str(sqlite_settings.data_dir)},
    )
    assert result.exit_code == 1
    assert "databases differ" in result.output


def test_the_cli_copies_and_reports_each_table(
    sqlite_settings: Settings, database_url: str, engine_for: EngineFactory
) -> None:
    fill(engine_for(sqlite_settings), rooms=2, days=3, slots=3)
    result = CliRunner().invoke(
        cli,
        ["db", "copy", "--source", sqlite_settings.database_url, "--target", database_url],
        env={"MRS_DATA_DIR": str(sqlite_settings.data_dir)},
    )
    assert result.exit_code == 0, result.output
    assert "copied and verified" in result.output
    assert "reservation" in result.output
    assert "18 rows" in result.output


_KILLED_COPY = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from mrs.ops.copy import copy_database
    from mrs.settings import Settings

    class HalfwayStop:
        label, total, done = "", 0, 0
        def start(self, label, total):
            self.label, self.total, self.done = label, total or 0, 0
        def advance(self, amount):
            self.done += amount
            if self.label == "copy reservation" and self.done * 2 >= self.total:
                print("HALFWAY", flush=True)
                time.sleep(120)

    source, target, data_dir = sys.argv[1:4]
    copy_database(Settings(data_dir=Path(data_dir)), source_url=source, target_url=target,
                  batch_size=1000, progress=HalfwayStop())
    """
)


def test_a_copy_killed_halfway_leaves_the_target_empty(
    sqlite_settings: Settings, database_url: str, engine_for: EngineFactory
) -> None:
    fill(engine_for(sqlite_settings), rooms=10, days=20, slots=20)
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            _KILLED_COPY,
            sqlite_settings.database_url,
            database_url,
            str(sqlite_settings.data_dir),
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "HALFWAY"
        target = engine_for(sqlite_settings, database_url)
        with target.connect() as connection:
            # The half-copied rows exist only inside the child's open transaction.
            in_flight = connection.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND state = 'idle in transaction'"
                )
            )
        assert in_flight == 1
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait(timeout=30)

    assert set(_counts(target).values()) == {0}
    # And the target is usable: the copy can simply be run again.
    report = copy_database(
        sqlite_settings, source_url=sqlite_settings.database_url, target_url=database_url
    )
    assert report.tables["reservation"].rows == 4000
