"""One migration history that runs on both dialects, up and down."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from mrs.db.base import Base, import_all_models
from mrs.db.engine import make_sync_engine
from mrs.db.migrate import current_revisions, downgrade, head_revisions, is_at_head, upgrade
from mrs.settings import Settings
from tests import support


@pytest.fixture(params=["postgresql", "sqlite"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> object:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    request.getfixturevalue("postgres_server")
    with support.throwaway_database("mrs_migr") as url:
        yield url


def _engine(url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    return make_sync_engine(Settings(data_dir=tmp_path, database_url=url))


def test_upgrade_from_empty_creates_every_table(empty_database_url: str, tmp_path: Path) -> None:
    engine = _engine(empty_database_url, tmp_path)
    try:
        assert current_revisions(engine) == set()
        upgrade(engine)
        assert is_at_head(engine)
        import_all_models()
        tables = set(inspect(engine).get_table_names())
        assert set(Base.metadata.tables) <= tables
    finally:
        engine.dispose()


def test_downgrade_to_base_and_upgrade_again(empty_database_url: str, tmp_path: Path) -> None:
    engine = _engine(empty_database_url, tmp_path)
    try:
        upgrade(engine)
        downgrade(engine, "base")
        assert current_revisions(engine) == set()
        assert "reservation" not in inspect(engine).get_table_names()
        upgrade(engine)
        assert current_revisions(engine) == head_revisions()
    finally:
        engine.dispose()


def test_postgres_forbids_overlapping_active_reservations_itself(
    database_url: str, tmp_path: Path
) -> None:
    engine = _engine(database_url, tmp_path)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO usr (user_id, first_name, last_name, email, password_hash, role_name, status, created_at) VALUES ('u', 'U', 'U', 'u@x', 'h', 'USER', 'ACTIVE', now())"
                )
            )
            conn.execute(text("INSERT INTO meeting_room (room_name) VALUES ('R')"))
            conn.execute(
                text(
                    "INSERT INTO reservable_room (reserved_date, room_id) SELECT '2030-01-08', room_id FROM meeting_room"
                )
            )

        def insert(start: int, end: int, status: str = "ACTIVE") -> None:
            with engine.begin() as conn:
                conn.execute(
                    text(
                        "INSERT INTO reservation (room_id, reserved_date, start_minute, end_minute, user_id, status, created_at) SELECT room_id, '2030-01-08', :s, :e, 'u', :st, now() FROM meeting_room"
                    ),
                    {"s": start, "e": end, "st": status},
                )

        insert(600, 660)
        insert(660, 690)  # adjacent: fine
        insert(630, 690, "CANCELLED")  # cancelled rows never block
        with pytest.raises(Exception, match="ex_reservation_no_overlap"):
            insert(630, 690)
        with pytest.raises(Exception, match="ck_reservation_end_after_start"):
            insert(700, 690)
    finally:
        engine.dispose()
