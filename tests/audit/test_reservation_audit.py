"""What the audit log records of reservations, series and occurrences, on PostgreSQL
(where a booking is one statement that writes its audit row itself) and SQLite: one row
per change, its changed fields before and after, who acted and for whom, and the request
it came from (the same id as the response's X-Request-ID)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from mrs.accounts.models import Role
from mrs.audit.models import AuditEntry
from mrs.audit.rules import parsed as _parsed
from mrs.db.engine import Database
from tests.conftest import LoginFactory, RoomFactory, UserFactory

pytestmark = pytest.mark.both_databases

Headers = dict[str, str]


@pytest.fixture
async def people(make_user: UserFactory, login: LoginFactory) -> dict[str, Headers]:
    """The owner, two colleagues they invite, and an administrator: their headers."""
    await make_user("aoi")
    await make_user("ken")
    return {
        "owner": await login(await make_user("owner")),
        "admin": await login(await make_user("boss", role=Role.ADMIN)),
    }


@pytest.fixture
async def room(make_room: RoomFactory) -> int:
    return await make_room("Sakura", days=14)


async def _rows(app: Any, prefix: str = "") -> list[AuditEntry]:
    """The audit rows whose action starts with `prefix`, oldest first."""
    db: Database = app.state.db
    async with db.snapshot() as session:
        rows = await session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action.startswith(prefix))
            .order_by(AuditEntry.audit_id)
        )
        return list(rows.all())


def _json(stored: str | None) -> Any:
    """A row's before/after as data."""
    return _parsed(stored)


def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code < 300, response.text
    return response.json() if response.content else {}


async def _reserve(
    client: httpx.AsyncClient, room: int, headers: Headers, day: date, **extra: Any
) -> httpx.Response:
    body = {"date": day.isoformat(), "start_time": "10:00", "end_time": "11:00", **extra}
    return await client.post(f"/api/rooms/{room}/reservations", json=body, headers=headers)


async def test_a_booking_records_what_was_booked_by_whom_and_from_which_request(
    app: Any, client: httpx.AsyncClient, people: dict[str, Headers], room: int, tomorrow: date
) -> None:
    response = await _reserve(
        client, room, people["owner"], tomorrow, title="Plan", attendees=["ken", "aoi"]
    )
    made = _ok(response)
    [row] = await _rows(app, "reservation.")
    assert (row.action, row.subject_type, row.subject_id) == (
        "reservation.create",
        "reservation",
        str(made["reservation_id"]),
    )
    assert (row.actor_id, row.on_behalf_of) == ("owner", None)
    assert _json(row.before) is None
    assert _json(row.after) == {
        "room_id": room,
        "date": tomorrow.isoformat(),
        "start": "10:00",
        "end": "11:00",
        "title": "Plan",
        "description": "",
        "visibility": "PUBLIC",
        "attendees": ["aoi", "ken"],
    }
    assert row.request_id == response.headers["X-Request-ID"]
    assert row.client_address  # the test client's address, as the access log has it


async def test_a_plain_booking_and_one_under_an_idempotency_key_each_record_one_row(
    app: Any, client: httpx.AsyncClient, people: dict[str, Headers], room: int, tomorrow: date
) -> None:
    plain = await _reserve(client, room, people["owner"], tomorrow)
    keyed_headers = {**people["owner"], "Idempotency-Key": "retry-me-1"}
    later = tomorrow + timedelta(days=1)
    keyed = await _reserve(client, room, keyed_headers, later)
    replayed = await _reserve(client, room, keyed_headers, later)
    assert replayed.json() == keyed.json()  # the retry books nothing: no second row
    rows = await _rows(app, "reservation.")
    assert [(row.action, row.request_id) for row in rows] == [
        ("reservation.create", plain.headers["X-Request-ID"]),
        ("reservation.create", keyed.headers["X-Request-ID"]),
    ]
    assert _json(rows[0].after)["attendees"] == []


async def test_a_refused_booking_records_nothing(
    app: Any, client: httpx.AsyncClient, people: dict[str, Headers], room: int, tomorrow: date
) -> None:
    _ok(await _reserve(client, room, people["owner"], tomorrow))
    taken = await _reserve(client, room, people["admin"], tomorrow)
    assert taken.status_code == 409
    assert len(await _rows(app, "reservation.")) == 1


async def test_a_change_records_only_the_fields_that_changed(
    app: Any, client: httpx.AsyncClient, people: dict[str, Headers], room: int, tomorrow: date
) -> None:
    made = _ok(await _reserve(client, room, people["owner"], tomorrow, attendees=["aoi"]))
    response = await client.patch(
        f"/api/reservations/{made['reservation_id']}",
        json={"start_time": "13:00", "end_time": "14:00", "title": "Moved", "attendees": ["ken"]},
        headers=people["owner"],
    )
    _ok(response)
    row = (await _rows(app, "reservation.update"))[0]
    assert _json(row.before) == {
        "start": "10:00",
        "end": "11:00",
        "title": None,
        "attendees": ["aoi"],
    }
    assert _json(row.after) == {
        "start": "13:00",
        "end": "14:00",
        "title": "Moved",
        "attendees": ["ken"],
    }
    assert (row.actor_id, row.on_behalf_of) == ("owner", None)
    assert row.request_id == response.headers["X-Request-ID"]


async def test_an_admin_cancelling_someones_meeting_is_recorded_on_the_owners_behalf(
    app: Any, client: httpx.AsyncClient, people: dict[str, Headers], room: int, tomorrow: date
) -> None:
    made = _ok(await _reserve(client, room, people["owner"], tomorrow))
    response = await client.delete(
        f"/api/reservations/{made['reservation_id']}", headers=people["admin"]
    )
    assert response.status_code == 204
    [row] = await _rows(app, "reservation.cancel")
    assert (row.actor_id, row.on_behalf_of) == ("boss", "owner")
    assert (row.subject_type, row.subject_id) == ("reservation", str(made["reservation_id"]))
    assert _json(row.before) == {"status": "ACTIVE"}
    assert _json(row.after) == {"status": "CANCELLED"}
    assert row.request_id == response.headers["X-Request-ID"]


def _series(start: date, count: int = 3) -> dict[str, Any]:
    return {
        "title": "Daily sync",
        "start_date": start.isoformat(),
        "start_time": "09:00",
        "end_time": "09:30",
        "rule": f"FREQ=DAILY;COUNT={count}",
    }


async def test_a_series_is_recorded_when_made_changed_and_cancelled(
    app: Any, client: httpx.AsyncClient, people: dict[str, Headers], room: int, tomorrow: date
) -> None:
    made = _ok(
        await client.post(
            f"/api/rooms/{room}/series", json=_series(tomorrow), headers=people["owner"]
        )
    )
    series_id = made["series_id"]
    _ok(
        await client.patch(
            f"/api/series/{series_id}",
            json={"start_time": "09:30", "end_time": "10:00"},
            headers=people["owner"],
        )
    )
    cancelled = await client.delete(f"/api/series/{series_id}", headers=people["admin"])
    assert cancelled.status_code == 204

    create, update, cancel = await _rows(app, "series.")
    assert [row.action for row in (create, update, cancel)] == [
        "series.create",
        "series.update",
        "series.cancel",
    ]
    assert {row.subject_id for row in (create, update, cancel)} == {str(series_id)}
    assert _json(create.after) == {
        "room_id": room,
        "rule": "FREQ=DAILY;COUNT=3",
        "start": "09:00",
        "end": "09:30",
        "title": "Daily sync",
        "description": "",
        "visibility": "PUBLIC",
        "attendees": [],
        "start_date": tomorrow.isoformat(),
    }
    assert _json(update.before) == {"start": "09:00", "end": "09:30"}
    assert _json(update.after) == {"start": "09:30", "end": "10:00"}
    assert (cancel.actor_id, cancel.on_behalf_of) == ("boss", "owner")
    assert _json(cancel.after)["cancelled_dates"] == [
        (tomorrow + timedelta(days=n)).isoformat() for n in range(3)
    ]
    assert _json(cancel.before) == {"status": "ACTIVE"}
    assert _json(cancel.after)["status"] == "CANCELLED"
    assert cancel.request_id == cancelled.headers["X-Request-ID"]
    # The occurrences were written by the series: no reservation rows of their own.
    assert await _rows(app, "reservation.") == []


async def test_changing_a_series_from_a_date_on_ends_it_and_records_the_new_one(
    app: Any, client: httpx.AsyncClient, people: dict[str, Headers], room: int, tomorrow: date
) -> None:
    made = _ok(
        await client.post(
            f"/api/rooms/{room}/series", json=_series(tomorrow, 4), headers=people["owner"]
        )
    )
    split = tomorrow + timedelta(days=2)
    changed = _ok(
        await client.patch(
            f"/api/series/{made['series_id']}",
            json={"scope": "following", "from_date": split.isoformat(), "title": "Retro"},
            headers=people["owner"],
        )
    )
    _, ended, continued = await _rows(app, "series.")
    assert (ended.action, ended.subject_id) == ("series.update", str(made["series_id"]))
    assert _json(ended.before) == {"rule": "FREQ=DAILY;COUNT=4"}
    assert _json(ended.after)["rule"] != "FREQ=DAILY;COUNT=4"
    assert (continued.action, continued.subject_id) == (
        "series.create",
        str(changed["series_id"]),
    )
    assert _json(continued.after)["title"] == "Retro"
    assert _json(continued.after)["continues"] == made["series_id"]


async def test_one_occurrence_changed_or_cancelled_on_its_own_is_an_occurrence_row(
    app: Any, client: httpx.AsyncClient, people: dict[str, Headers], room: int, tomorrow: date
) -> None:
    made = _ok(
        await client.post(
            f"/api/rooms/{room}/series", json=_series(tomorrow), headers=people["owner"]
        )
    )
    first, second = (each["reservation_id"] for each in made["occurrences"][:2])
    _ok(
        await client.patch(
            f"/api/reservations/{first}", json={"title": "Special"}, headers=people["owner"]
        )
    )
    assert (
        await client.delete(f"/api/reservations/{second}", headers=people["admin"])
    ).status_code == 204
    update, cancel = await _rows(app, "occurrence.")
    assert (update.action, update.subject_type, update.subject_id) == (
        "occurrence.update",
        "reservation",
        str(first),
    )
    assert (_json(update.before), _json(update.after)) == (
        {"title": "Daily sync"},
        {"title": "Special"},
    )
    assert (cancel.action, cancel.subject_id) == ("occurrence.cancel", str(second))
    assert (cancel.actor_id, cancel.on_behalf_of) == ("boss", "owner")


async def test_an_admin_moving_someones_meeting_is_recorded_with_the_reason_given(
    app: Any, client: httpx.AsyncClient, people: dict[str, Headers], room: int, tomorrow: date
) -> None:
    made = _ok(await _reserve(client, room, people["owner"], tomorrow))
    response = await client.patch(
        f"/api/reservations/{made['reservation_id']}",
        json={"start_time": "15:00", "end_time": "16:00", "reason": "Board meeting"},
        headers=people["admin"],
    )
    _ok(response)
    [row] = await _rows(app, "reservation.update")
    assert (row.actor_id, row.on_behalf_of) == ("boss", "owner")
    assert _json(row.before) == {"start": "10:00", "end": "11:00"}
    assert _json(row.after) == {"start": "15:00", "end": "16:00", "reason": "Board meeting"}
    assert row.request_id == response.headers["X-Request-ID"]
