"""Fixtures for operations tests: bulk-generated data, settings pointing at a database."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert

from mrs.accounts.models import User
from mrs.db.engine import make_sync_engine
from mrs.reservations.models import Reservation
from mrs.rooms.models import MeetingRoom, ReservableRoom
from mrs.settings import Settings

FIRST_DAY = date(2030, 1, 1)
# Ids whose order differs between byte order and a natural-language collation.
AWKWARD_USER_IDS = ["a-b", "a_b", "ab", "a.b", "zz", "b1", "b10", "b2"]


@dataclass(frozen=True)
class Dataset:
    users: int
    rooms: int
    reservable: int
    reservations: int
    cancelled: int


def fill(engine: Engine, *, rooms: int, days: int, slots: int, users: int = 50) -> Dataset:
    """Bulk-insert users, rooms, opened dates and reservations (every 5th cancelled).

    Active reservations never overlap (so PostgreSQL's exclusion constraint accepts them);
    each cancelled one is shadowed by an active one on the same slot, as after a re-booking.
    """
    base = datetime(2029, 12, 1, 8, 30, 15, 123456, tzinfo=UTC)
    user_ids = AWKWARD_USER_IDS + [f"user{i:04d}" for i in range(users - len(AWKWARD_USER_IDS))]
    user_rows = [
        {
            "user_id": uid,
            "first_name": "太郎" if i % 2 else "Ann",
            "last_name": f"Sato {i}",
            "email": f"{uid}@example.com",
            "password_hash": "$argon2id$v=19$m=65536,t=3,p=4$x$y",
            "role_name": "ADMIN" if i == 0 else "USER",
            "status": "ACTIVE",
            "created_at": base + timedelta(seconds=i),
            "decided_at": None if i % 3 else base,
            "decided_by": None,
            "tokens_valid_after": None,
        }
        for i, uid in enumerate(user_ids)
    ]
    room_rows = [
        {
            "room_id": r + 1,
            "room_name": f"Room {r + 1}",
            "capacity": None if r % 7 == 0 else 4 + r % 10,
            "location": "本館 3F",
            "active": r % 11 != 0,
        }
        for r in range(rooms)
    ]
    reservable_rows = [
        {"reserved_date": FIRST_DAY + timedelta(days=d), "room_id": r + 1, "is_open": True}
        for d in range(days)
        for r in range(rooms)
    ]
    reservations: list[dict[str, object]] = []
    cancelled = 0
    with engine.begin() as conn:
        conn.execute(insert(User), user_rows)
        conn.execute(insert(MeetingRoom), room_rows)
        conn.execute(insert(ReservableRoom), reservable_rows)
        n = 0
        for d in range(days):
            for r in range(rooms):
                for s in range(slots):
                    n += 1
                    is_cancelled = n % 5 == 0
                    cancelled += is_cancelled
                    reservations.append(
                        {
                            "room_id": r + 1,
                            "reserved_date": FIRST_DAY + timedelta(days=d),
                            "start_minute": 480 + s * 30,
                            "end_minute": 510 + s * 30,
                            "user_id": user_ids[n % len(user_ids)],
                            "status": "CANCELLED" if is_cancelled else "ACTIVE",
                            "created_at": base + timedelta(microseconds=n * 7),
                            "cancelled_at": base + timedelta(hours=1) if is_cancelled else None,
                            "cancelled_by": user_ids[0] if is_cancelled else None,
                        }
                    )
                    if len(reservations) >= 20_000:
                        conn.execute(insert(Reservation), reservations)
                        reservations.clear()
        if reservations:
            conn.execute(insert(Reservation), reservations)
    return Dataset(
        users=len(user_rows),
        rooms=rooms,
        reservable=len(reservable_rows),
        reservations=days * rooms * slots,
        cancelled=cancelled,
    )


@pytest.fixture
def pg_settings(tmp_path: Path, database_url: str) -> Settings:
    """Settings on a fresh PostgreSQL database with backups in a temporary directory."""
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        backup_dir=tmp_path / "backups",
        secret_key="test-secret-key-0123456789-0123456789-0123456789",
    )


@pytest.fixture
def sqlite_settings(tmp_path: Path, sqlite_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=sqlite_url,
        backup_dir=tmp_path / "backups",
        secret_key="test-secret-key-0123456789-0123456789-0123456789",
    )


@pytest.fixture
def engine_for() -> Iterator[object]:
    """Open sync engines on settings; all disposed after the test."""
    engines: list[Engine] = []

    def factory(settings: Settings, url: str | None = None) -> Engine:
        engine = make_sync_engine(settings, url)
        engines.append(engine)
        return engine

    yield factory
    for engine in engines:
        engine.dispose()
