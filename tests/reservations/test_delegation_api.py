"""Delegates (代理予約) through the API on PostgreSQL and SQLite: managing the list
(validated, audited), booking for a principal (the booking is theirs, `booked_by` the
delegate, their quota and policy judged), a non-delegate refused with nothing written,
a removed delegate refused at once, edits and cancels of the principal's bookings but
nobody else's, what "my reservations" shows each side, and the mail to both."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from mrs.accounts.models import Role
from mrs.audit.models import AuditEntry
from mrs.db.engine import Database
from mrs.reservations.models import Reservation, ReservationChange
from tests.conftest import LoginFactory, RoomFactory, UserFactory
from tests.mail import deliver_outbox, parts, run_invitation_job

pytestmark = pytest.mark.both_databases

Headers = dict[str, str]


@pytest.fixture
async def people(make_user: UserFactory, login: LoginFactory) -> dict[str, Headers]:
    """A manager (the principal), their secretary (named delegate), a colleague (not a
    delegate), another user whose bookings nobody may touch, and an administrator."""
    headers = {}
    for user_id in ("manager", "secretary", "colleague", "other"):
        await make_user(user_id)
        headers[user_id] = await login(user_id)
    await make_user("boss", role=Role.ADMIN)
    headers["boss"] = await login("boss")
    return headers


async def _name(client: httpx.AsyncClient, headers: Headers, *user_ids: str) -> httpx.Response:
    return await client.put("/api/me/delegates", json={"user_ids": list(user_ids)}, headers=headers)


def _body(day: date, start: str = "10:00", end: str = "11:00", **more: Any) -> dict[str, Any]:
    return {"date": day.isoformat(), "start_time": start, "end_time": end, **more}


async def _count(db: Database) -> int:
    async with db.snapshot() as session:
        return int(
            (await session.execute(select(func.count()).select_from(Reservation))).scalar_one()
        )


async def _audit(db: Database, action: str) -> list[AuditEntry]:
    async with db.snapshot() as session:
        return list(
            (
                await session.scalars(
                    select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.at)
                )
            ).all()
        )


async def test_a_principal_names_and_removes_delegates_and_each_change_is_audited(
    client: httpx.AsyncClient, people: dict[str, Headers], db: Database
) -> None:
    named = await _name(client, people["manager"], "Secretary", "colleague", "secretary")
    assert named.status_code == 200, named.text
    assert [p["user_id"] for p in named.json()["delegates"]] == ["colleague", "secretary"]
    assert named.json()["delegates"][1]["name"] == "Test Secretary"
    mine = await client.get("/api/me/delegates", headers=people["secretary"])
    assert mine.json() == {
        "delegates": [],
        "principals": [{"user_id": "manager", "name": "Test Manager"}],
    }
    again = await _name(client, people["manager"], "secretary")
    assert [p["user_id"] for p in again.json()["delegates"]] == ["secretary"]
    # The same list again changes nothing and writes no audit row.
    await _name(client, people["manager"], "secretary")
    rows = await _audit(db, "user.delegates")
    assert len(rows) == 2
    assert (rows[0].actor_id, rows[0].subject_id) == ("manager", "manager")
    assert json.loads(rows[0].after or "{}") == {"delegates": ["colleague", "secretary"]}
    assert json.loads(rows[1].before or "{}") == {"delegates": ["colleague", "secretary"]}
    assert json.loads(rows[1].after or "{}") == {"delegates": ["secretary"]}
    colleague = await client.get("/api/me/delegates", headers=people["colleague"])
    assert colleague.json()["principals"] == []


async def test_bad_delegate_lists_are_refused_naming_the_ids_and_change_nothing(
    client: httpx.AsyncClient, people: dict[str, Headers], make_user: UserFactory, db: Database
) -> None:
    from mrs.accounts.models import UserStatus

    await make_user("gone", status=UserStatus.DISABLED)
    await _name(client, people["manager"], "secretary")
    refused = await _name(client, people["manager"], "colleague", "manager", "nobody", "gone")
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["code"] == "invalid_delegates"
    assert error["details"]["user_ids"] == ["manager", "nobody", "gone"]
    assert "nobody" in error["message"]
    ja = await client.put(
        "/api/me/delegates",
        json={"user_ids": ["nobody"]},
        headers={**people["manager"], "Accept-Language": "ja"},
    )
    assert ja.status_code == 422
    assert "代理人" in ja.json()["error"]["message"]
    too_many = await _name(client, people["manager"], *[f"user{n}" for n in range(21)])
    assert too_many.status_code == 422
    assert too_many.json()["error"]["code"] == "too_many_delegates"
    malformed = await client.put(
        "/api/me/delegates", json={"user_ids": "secretary"}, headers=people["manager"]
    )
    assert malformed.status_code == 422
    unchanged = await client.get("/api/me/delegates", headers=people["manager"])
    assert [p["user_id"] for p in unchanged.json()["delegates"]] == ["secretary"]
    assert len(await _audit(db, "user.delegates")) == 1


async def test_a_delegate_books_for_the_principal_who_owns_it_and_sees_it(
    client: httpx.AsyncClient,
    people: dict[str, Headers],
    make_room: RoomFactory,
    tomorrow: date,
    db: Database,
) -> None:
    await _name(client, people["manager"], "secretary")
    room = await make_room()
    made = await client.post(
        f"/api/rooms/{room}/reservations",
        json=_body(tomorrow, title="Board prep", on_behalf_of="Manager"),
        headers=people["secretary"],
    )
    assert made.status_code == 201, made.text
    body = made.json()
    assert (body["user_id"], body["booked_by"], body["role"]) == ("manager", "secretary", "owner")
    async with db.snapshot() as session:
        row = await session.get(Reservation, body["reservation_id"])
        assert row is not None
        assert (row.user_id, row.booked_by) == ("manager", "secretary")
    [audited] = await _audit(db, "reservation.create")
    assert (audited.actor_id, audited.on_behalf_of) == ("secretary", "manager")
    own = await client.post(
        f"/api/rooms/{room}/reservations",
        json=_body(tomorrow, "12:00", "13:00"),
        headers=people["manager"],
    )
    assert own.json()["booked_by"] is None

    principal = await client.get("/api/reservations/mine", headers=people["manager"])
    assert {(r["reservation_id"], r["role"], r["booked_by"]) for r in principal.json()} == {
        (body["reservation_id"], "owner", "secretary"),
        (own.json()["reservation_id"], "owner", None),
    }
    delegate = await client.get("/api/reservations/mine", headers=people["secretary"])
    assert [(r["reservation_id"], r["role"]) for r in delegate.json()] == [
        (body["reservation_id"], "delegate")
    ]


async def test_a_delegate_books_a_series_for_the_principal(
    client: httpx.AsyncClient,
    people: dict[str, Headers],
    make_room: RoomFactory,
    tomorrow: date,
    db: Database,
) -> None:
    await _name(client, people["manager"], "secretary")
    room = await make_room()
    made = await client.post(
        f"/api/rooms/{room}/series",
        json={
            "start_date": tomorrow.isoformat(),
            "start_time": "09:00",
            "end_time": "09:30",
            "rule": "FREQ=DAILY;COUNT=3",
            "on_behalf_of": "manager",
        },
        headers=people["secretary"],
    )
    assert made.status_code == 201, made.text
    async with db.snapshot() as session:
        rows = (
            await session.execute(
                select(Reservation.user_id, Reservation.booked_by).where(
                    Reservation.series_id == made.json()["series_id"]
                )
            )
        ).all()
    assert [tuple(row) for row in rows] == [("manager", "secretary")] * 3
    [audited] = await _audit(db, "series.create")
    assert (audited.actor_id, audited.on_behalf_of) == ("secretary", "manager")
    refused = await client.post(
        f"/api/rooms/{room}/series",
        json={
            "start_date": tomorrow.isoformat(),
            "start_time": "15:00",
            "end_time": "15:30",
            "rule": "FREQ=DAILY;COUNT=2",
            "on_behalf_of": "manager",
        },
        headers=people["colleague"],
    )
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "not_a_delegate"
    preview = {
        "start_date": tomorrow.isoformat(),
        "start_time": "09:00",
        "end_time": "09:30",
        "rule": "FREQ=DAILY;COUNT=2",
        "on_behalf_of": "manager",
    }
    not_theirs = await client.post(
        f"/api/rooms/{room}/series/preview", json=preview, headers=people["colleague"]
    )
    assert not_theirs.status_code == 403
    planned = await client.post(
        f"/api/rooms/{room}/series/preview", json=preview, headers=people["secretary"]
    )
    assert planned.status_code == 200, planned.text
    assert [each["state"] for each in planned.json()["dates"]] == ["conflict", "conflict"]


async def test_a_non_delegate_is_refused_and_nothing_is_written(
    client: httpx.AsyncClient,
    people: dict[str, Headers],
    make_room: RoomFactory,
    tomorrow: date,
    db: Database,
) -> None:
    await _name(client, people["manager"], "secretary")
    room = await make_room()
    for headers in (people["colleague"], {**people["colleague"], "Idempotency-Key": "k-1"}):
        refused = await client.post(
            f"/api/rooms/{room}/reservations",
            json=_body(tomorrow, on_behalf_of="manager"),
            headers=headers,
        )
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"]["code"] == "not_a_delegate"
        assert "manager" in refused.json()["error"]["message"]
    # A principal does not become their delegate's principal the other way round.
    backwards = await client.post(
        f"/api/rooms/{room}/reservations",
        json=_body(tomorrow, on_behalf_of="secretary"),
        headers=people["manager"],
    )
    assert backwards.status_code == 403
    unknown = await client.post(
        f"/api/rooms/{room}/reservations",
        json=_body(tomorrow, on_behalf_of="nobody"),
        headers=people["secretary"],
    )
    assert unknown.status_code == 422
    assert unknown.json()["error"]["code"] == "unknown_principal"
    assert await _count(db) == 0
    assert await _audit(db, "reservation.create") == []


async def test_an_admin_may_book_for_anyone_and_is_recorded_as_the_booker(
    client: httpx.AsyncClient, people: dict[str, Headers], make_room: RoomFactory, tomorrow: date
) -> None:
    room = await make_room()
    made = await client.post(
        f"/api/rooms/{room}/reservations",
        json=_body(tomorrow, on_behalf_of="other"),
        headers=people["boss"],
    )
    assert made.status_code == 201, made.text
    assert (made.json()["user_id"], made.json()["booked_by"]) == ("other", "boss")


async def test_a_removed_delegate_loses_the_right_at_once(
    client: httpx.AsyncClient,
    people: dict[str, Headers],
    make_room: RoomFactory,
    tomorrow: date,
    db: Database,
) -> None:
    await _name(client, people["manager"], "secretary")
    room = await make_room()
    made = await client.post(
        f"/api/rooms/{room}/reservations",
        json=_body(tomorrow, on_behalf_of="manager"),
        headers=people["secretary"],
    )
    assert made.status_code == 201
    await _name(client, people["manager"])
    again = await client.post(
        f"/api/rooms/{room}/reservations",
        json=_body(tomorrow, "14:00", "15:00", on_behalf_of="manager"),
        headers=people["secretary"],
    )
    assert again.status_code == 403
    reservation_id = made.json()["reservation_id"]
    edit = await client.patch(
        f"/api/reservations/{reservation_id}",
        json={"title": "Mine now"},
        headers=people["secretary"],
    )
    assert edit.status_code == 403
    cancel = await client.delete(f"/api/reservations/{reservation_id}", headers=people["secretary"])
    assert cancel.status_code == 403
    assert await _count(db) == 1


async def test_a_delegate_edits_moves_and_cancels_the_principals_booking_but_no_one_elses(
    client: httpx.AsyncClient,
    people: dict[str, Headers],
    make_room: RoomFactory,
    tomorrow: date,
    db: Database,
) -> None:
    await _name(client, people["manager"], "secretary")
    room = await make_room()
    own = await client.post(
        f"/api/rooms/{room}/reservations", json=_body(tomorrow), headers=people["manager"]
    )
    theirs = await client.post(
        f"/api/rooms/{room}/reservations",
        json=_body(tomorrow, "15:00", "16:00"),
        headers=people["other"],
    )
    reservation_id = own.json()["reservation_id"]
    moved = await client.patch(
        f"/api/reservations/{reservation_id}",
        json={"start_time": "11:00", "end_time": "12:00", "title": "Moved"},
        headers=people["secretary"],
    )
    assert moved.status_code == 200, moved.text
    assert (moved.json()["start_time"], moved.json()["user_id"]) == ("11:00", "manager")
    [changed] = await _audit(db, "reservation.update")
    assert (changed.actor_id, changed.on_behalf_of) == ("secretary", "manager")

    other_id = theirs.json()["reservation_id"]
    refused = await client.patch(
        f"/api/reservations/{other_id}", json={"title": "No"}, headers=people["secretary"]
    )
    assert refused.status_code == 403
    assert (
        await client.delete(f"/api/reservations/{other_id}", headers=people["secretary"])
    ).status_code == 403

    cancelled = await client.delete(
        f"/api/reservations/{reservation_id}", headers=people["secretary"]
    )
    assert cancelled.status_code == 204
    async with db.snapshot() as session:
        row = await session.get(Reservation, reservation_id)
        assert row is not None
        assert (row.status, row.cancelled_by) == ("CANCELLED", "secretary")
        other = await session.get(Reservation, other_id)
        assert other is not None
        assert other.status == "ACTIVE"


async def test_a_delegate_changes_and_cancels_the_principals_series(
    client: httpx.AsyncClient, people: dict[str, Headers], make_room: RoomFactory, tomorrow: date
) -> None:
    await _name(client, people["manager"], "secretary")
    room = await make_room()
    made = await client.post(
        f"/api/rooms/{room}/series",
        json={
            "start_date": tomorrow.isoformat(),
            "start_time": "09:00",
            "end_time": "09:30",
            "rule": "FREQ=DAILY;COUNT=3",
        },
        headers=people["manager"],
    )
    series_id = made.json()["series_id"]
    by_colleague = await client.patch(
        f"/api/series/{series_id}", json={"title": "Nope"}, headers=people["colleague"]
    )
    assert by_colleague.status_code == 403
    changed = await client.patch(
        f"/api/series/{series_id}", json={"title": "Standup"}, headers=people["secretary"]
    )
    assert changed.status_code == 200, changed.text
    cancelled = await client.delete(f"/api/series/{series_id}", headers=people["secretary"])
    assert cancelled.status_code in (200, 204), cancelled.text


async def test_the_quota_is_the_principals_even_when_the_delegate_has_none(
    client: httpx.AsyncClient,
    people: dict[str, Headers],
    make_room: RoomFactory,
    tomorrow: date,
    db: Database,
) -> None:
    await _name(client, people["manager"], "secretary")
    set_quota = await client.put(
        "/api/admin/users/manager/quota",
        json={"max_future_reservations": 1, "reason": "One at a time"},
        headers=people["boss"],
    )
    assert set_quota.status_code == 200, set_quota.text
    room = await make_room()
    first = await client.post(
        f"/api/rooms/{room}/reservations", json=_body(tomorrow), headers=people["manager"]
    )
    assert first.status_code == 201
    for headers in (people["secretary"], {**people["secretary"], "Idempotency-Key": "q-1"}):
        refused = await client.post(
            f"/api/rooms/{room}/reservations",
            json=_body(tomorrow, "13:00", "14:00", on_behalf_of="manager"),
            headers=headers,
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["code"] == "quota_future_reservations"
    # The delegate's own booking is judged on their own (empty) quota.
    mine = await client.post(
        f"/api/rooms/{room}/reservations",
        json=_body(tomorrow, "13:00", "14:00"),
        headers=people["secretary"],
    )
    assert mine.status_code == 201
    assert await _count(db) == 2


async def test_the_booker_and_the_owner_are_both_mailed(
    app: Any,
    client: httpx.AsyncClient,
    people: dict[str, Headers],
    make_room: RoomFactory,
    tomorrow: date,
    db: Database,
) -> None:
    await _name(client, people["manager"], "secretary")
    room = await make_room("Board room")
    made = await client.post(
        f"/api/rooms/{room}/reservations",
        json=_body(tomorrow, title="Board", on_behalf_of="manager"),
        headers=people["secretary"],
    )
    assert made.status_code == 201
    async with db.snapshot() as session:
        [change] = (await session.scalars(select(ReservationChange))).all()
        assert change.actor_id == "secretary"
    await run_invitation_job(app)
    messages = {str(m["To"]): m for m in await deliver_outbox(app)}
    assert set(messages) == {"manager@example.com", "secretary@example.com"}
    to_owner = parts(messages["manager@example.com"])["text/plain"].get_content()
    to_booker = parts(messages["secretary@example.com"])["text/plain"].get_content()
    assert "Test Secretary booked this for you as your delegate." in to_owner
    assert "You booked this for Test Manager." in to_booker
    for message in messages.values():
        assert "text/calendar" in parts(message)

    cancelled = await client.delete(
        f"/api/reservations/{made.json()['reservation_id']}", headers=people["secretary"]
    )
    assert cancelled.status_code == 204
    await run_invitation_job(app)
    messages = {str(m["To"]): m for m in await deliver_outbox(app)}
    assert set(messages) == {"manager@example.com", "secretary@example.com"}
    assert (
        "cancelled your reservation as your delegate"
        in parts(messages["manager@example.com"])["text/plain"].get_content()
    )


async def test_the_room_policy_is_judged_on_the_principals_groups_not_the_delegates(
    client: httpx.AsyncClient,
    people: dict[str, Headers],
    make_room: RoomFactory,
    tomorrow: date,
    db: Database,
) -> None:
    await _name(client, people["manager"], "secretary")
    made = await client.post("/api/admin/groups", json={"name": "Board"}, headers=people["boss"])
    group_id = made.json()["group_id"]
    await client.put(
        f"/api/admin/groups/{group_id}/members",
        json={"user_ids": ["manager"]},
        headers=people["boss"],
    )
    room = await make_room("Board room")
    policy = await client.put(
        f"/api/admin/rooms/{room}/policy",
        json={"allowed_group_ids": [group_id]},
        headers=people["boss"],
    )
    assert policy.status_code == 200, policy.text
    own = await client.post(
        f"/api/rooms/{room}/reservations", json=_body(tomorrow), headers=people["secretary"]
    )
    assert own.status_code == 422
    assert own.json()["error"]["code"] == "policy_not_allowed"
    for_manager = await client.post(
        f"/api/rooms/{room}/reservations",
        json=_body(tomorrow, on_behalf_of="manager"),
        headers=people["secretary"],
    )
    assert for_manager.status_code == 201, for_manager.text
    # Moved by the delegate: still judged on the manager, so allowed.
    moved = await client.patch(
        f"/api/reservations/{for_manager.json()['reservation_id']}",
        json={"start_time": "12:00", "end_time": "13:00"},
        headers=people["secretary"],
    )
    assert moved.status_code == 200, moved.text
    assert await _count(db) == 1
