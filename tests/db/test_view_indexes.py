"""The views of a whole day (day timeline, free-room search, rooms page) have an index of
the active reservations by day and room, on both databases, as the model declares it."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect

from mrs.db.engine import make_sync_engine
from mrs.db.migrate import upgrade
from mrs.reservations.models import Reservation
from mrs.settings import Settings

pytestmark = pytest.mark.both_databases

INDEX = "ix_reservation_active_day"


def test_the_active_reservations_of_a_day_are_indexed_by_day_then_room(
    database_url: str, tmp_path: Path
) -> None:
    engine = make_sync_engine(Settings(data_dir=tmp_path, database_url=database_url))
    try:
        upgrade(engine)
        found = {index["name"]: index for index in inspect(engine).get_indexes("reservation")}
    finally:
        engine.dispose()
    assert found[INDEX]["column_names"] == ["reserved_date", "room_id", "start_minute"]
    declared = next(index for index in Reservation.__table__.indexes if index.name == INDEX)
    assert [column.name for column in declared.columns] == found[INDEX]["column_names"]
    # Partial: only active reservations (cancelled ones are kept forever).
    options = found[INDEX].get("dialect_options", {})
    where = options.get("postgresql_where", options.get("sqlite_where"))
    assert "ACTIVE" in str(where)
