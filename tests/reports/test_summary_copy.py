"""The reports' summary across a data migration (SQLite → PostgreSQL, verified) and
`mrs reports rebuild`."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from mrs.cli import app as cli
from mrs.db.engine import make_sync_engine
from mrs.db.migrate import downgrade, upgrade
from mrs.ops.copy import copy_database
from mrs.reports import summary
from mrs.settings import Settings
from tests.ops.conftest import fill


def _settings(tmp_path: Path, url: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=url,
        secret_key="test-secret-key-0123456789-0123456789-0123456789",
    )


def _contents(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    with engine.connect() as connection:
        return summary.contents(connection)


def test_a_verified_copy_to_postgresql_carries_the_same_summary(
    tmp_path: Path, sqlite_url: str, database_url: str
) -> None:
    source_settings = _settings(tmp_path, sqlite_url)
    source = make_sync_engine(source_settings)
    target = make_sync_engine(_settings(tmp_path, database_url))
    try:
        data = fill(source, rooms=4, days=6, slots=5)
        expected = _contents(source)
        assert len(expected["report_room_day"]) == 4 * 6
        report = copy_database(source_settings, source_url=sqlite_url, target_url=database_url)
        assert "report_room_day" not in report.tables  # derived: not copied nor compared
        assert report.tables["reservation"].rows == data.reservations
        assert _contents(target) == expected
    finally:
        source.dispose()
        target.dispose()


def test_the_rebuild_command_repairs_a_summary_changed_by_hand(
    tmp_path: Path, database_url: str
) -> None:
    settings = _settings(tmp_path, database_url)
    engine = make_sync_engine(settings)
    try:
        fill(engine, rooms=2, days=3, slots=4)
        right = _contents(engine)
        with engine.begin() as connection:
            connection.execute(text("UPDATE report_room_day SET booked_minutes = 0"))
            connection.execute(text("UPDATE report_hour_day SET h10 = 7"))
            connection.execute(text("DELETE FROM report_user_day"))
        assert _contents(engine) != right
        result = CliRunner().invoke(
            cli,
            ["reports", "rebuild"],
            env={"MRS_DATA_DIR": str(settings.data_dir), "MRS_DATABASE_URL": database_url},
        )
        assert result.exit_code == 0, result.output
        assert "reports summary rebuilt: 6 room-days" in result.output
        assert _contents(engine) == right
    finally:
        engine.dispose()


@pytest.mark.parametrize("url_fixture", ["database_url", "sqlite_url"])
def test_the_migration_fills_the_summary_from_the_reservations_already_there(
    tmp_path: Path, url_fixture: str, request: pytest.FixtureRequest
) -> None:
    engine = make_sync_engine(_settings(tmp_path, request.getfixturevalue(url_fixture)))
    try:
        downgrade(engine, "0016")
        fill(engine, rooms=3, days=4, slots=3)
        upgrade(engine)
        filled = _contents(engine)
        assert len(filled["report_room_day"]) == 3 * 4
        with engine.begin() as connection:
            summary.rebuild(connection)
        assert _contents(engine) == filled
    finally:
        engine.dispose()
