"""Room policies through the admin API and their effect on bookings, on PostgreSQL and
SQLite: read and replace, validation, audit, admins only; refusals through the
reservation, edit and series APIs with the rule's code and message (ja and en); an
administrator is not bound."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from mrs.audit.models import AuditEntry
from mrs.db.engine import Database
from tests.conftest import LoginFactory, RoomFactory, UserFactory

pytestmark = pytest.mark.both_databases

Headers = dict[str, str]


def _policy_url(room: int) -> str:
    return f"/api/admin/rooms/{room}/policy"


async def _set_policy(
    client: httpx.AsyncClient, room: int, headers: Headers, **body: Any
) -> httpx.Response:
    return await client.put(_policy_url(room), json=body, headers=headers)


async def _book(
    client: httpx.AsyncClient,
    room: int,
    headers: Headers,
    day: date,
    start: str,
    end: str,
    language: str = "en",
) -> httpx.Response:
    return await client.post(
        f"/api/rooms/{room}/reservations",
        json={"date": day.isoformat(), "start_time": start, "end_time": end},
        headers={**headers, "Accept-Language": language},
    )


async def test_a_room_without_a_policy_shows_the_site_defaults_in_force(
    client: httpx.AsyncClient, admin_headers: Headers, make_room: RoomFactory
) -> None:
    room = await make_room()
    read = await client.get(_policy_url(room), headers=admin_headers)
    assert read.status_code == 200, read.text
    body = read.json()
    assert body["max_minutes"] is None
    assert body["allowed_roles"] == []
    assert body["allowed_group_ids"] == []
    # The site's defaults leave bookings as they were: no limit but the open dates.
    assert body["effective"] == {
        "max_minutes": None,
        "max_days_ahead": None,
        "min_notice_minutes": 0,
    }


async def test_admins_replace_a_policy_and_the_change_is_audited(
    client: httpx.AsyncClient, admin_headers: Headers, make_room: RoomFactory, db: Database
) -> None:
    room = await make_room()
    group = await client.post("/api/admin/groups", json={"name": "Sales"}, headers=admin_headers)
    group_id = group.json()["group_id"]
    written = await _set_policy(
        client,
        room,
        admin_headers,
        max_minutes=120,
        max_days_ahead=30,
        min_notice_minutes=60,
        allowed_roles=["USER"],
        allowed_group_ids=[group_id],
        approval_required=True,
        checkin_required=True,
        checkin_grace_minutes=15,
    )
    assert written.status_code == 200, written.text
    read = (await client.get(_policy_url(room), headers=admin_headers)).json()
    assert read["effective"] == {"max_minutes": 120, "max_days_ahead": 30, "min_notice_minutes": 60}
    assert (read["allowed_roles"], read["allowed_group_ids"]) == (["USER"], [group_id])
    assert (read["approval_required"], read["checkin_required"], read["checkin_grace_minutes"]) == (
        True,
        True,
        15,
    )
    async with db.snapshot() as session:
        rows = (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "room.policy"))
        ).all()
    assert len(rows) == 1
    assert rows[0].subject_id == str(room)
    assert json.loads(rows[0].before or "{}")["max_minutes"] is None
    assert json.loads(rows[0].after or "{}")["max_minutes"] == 120


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"max_minutes": 0}, "max_minutes"),
        ({"max_minutes": 24 * 60 + 1}, "max_minutes"),
        ({"max_days_ahead": -1}, "max_days_ahead"),
        ({"min_notice_minutes": -5}, "min_notice_minutes"),
        ({"checkin_grace_minutes": -1}, "checkin_grace_minutes"),
        ({"allowed_roles": ["GUEST"]}, "allowed_roles.0"),
        ({"allowed_group_ids": [0]}, "allowed_group_ids"),
        ({"max_minutes": "long"}, "max_minutes"),
        ({"surprise": 1}, "surprise"),
    ],
)
async def test_an_invalid_policy_is_refused_with_the_field_named(
    client: httpx.AsyncClient,
    admin_headers: Headers,
    make_room: RoomFactory,
    body: dict[str, Any],
    field: str,
) -> None:
    room = await make_room()
    refused = await _set_policy(client, room, admin_headers, **body)
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert error["code"] == "validation_error"
    assert field in [each["field"] for each in error["details"]]


async def test_a_group_that_does_not_exist_is_refused(
    client: httpx.AsyncClient, admin_headers: Headers, make_room: RoomFactory
) -> None:
    room = await make_room()
    refused = await _set_policy(client, room, admin_headers, allowed_group_ids=[987654])
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "unknown_groups"


async def test_only_admins_read_or_write_a_policy(
    client: httpx.AsyncClient, user_headers: Headers, admin_headers: Headers, make_room: RoomFactory
) -> None:
    room = await make_room()
    assert (await client.get(_policy_url(room), headers=user_headers)).status_code == 403
    assert (await _set_policy(client, room, user_headers, max_minutes=60)).status_code == 403
    missing = await client.get(_policy_url(999_999), headers=admin_headers)
    assert missing.status_code == 404


async def test_a_booking_longer_than_the_room_allows_is_refused_in_both_languages(
    client: httpx.AsyncClient,
    admin_headers: Headers,
    user_headers: Headers,
    make_room: RoomFactory,
    tomorrow: date,
) -> None:
    room = await make_room()
    await _set_policy(client, room, admin_headers, max_minutes=120)
    refused = await _book(client, room, user_headers, tomorrow, "10:00", "12:30")
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["code"] == "policy_max_length"
    assert error["message"] == "This room can be booked for at most 2 hours."
    in_japanese = await _book(client, room, user_headers, tomorrow, "10:00", "12:30", "ja")
    assert in_japanese.json()["error"]["message"] == "この会議室は最長 2 時間まで予約できます。"
    at_the_limit = await _book(client, room, user_headers, tomorrow, "10:00", "12:00")
    assert at_the_limit.status_code == 201, at_the_limit.text


async def test_too_far_ahead_short_notice_and_not_allowed_are_refused_by_name(
    client: httpx.AsyncClient,
    admin_headers: Headers,
    user_headers: Headers,
    make_room: RoomFactory,
    today: date,
) -> None:
    room = await make_room(days=14)
    await _set_policy(client, room, admin_headers, max_days_ahead=3, min_notice_minutes=120)
    far = await _book(client, room, user_headers, today + timedelta(days=4), "10:00", "11:00")
    assert far.json()["error"]["code"] == "policy_too_far_ahead", far.text
    edge = await _book(client, room, user_headers, today + timedelta(days=3), "10:00", "11:00")
    assert edge.status_code == 201, edge.text
    # The pinned clock says 09:00: 10:30 is 90 minutes ahead, 11:00 exactly 120.
    soon = await _book(client, room, user_headers, today, "10:30", "11:00", "ja")
    assert soon.status_code == 422
    assert soon.json()["error"]["code"] == "policy_min_notice"
    assert soon.json()["error"]["message"] == "この会議室は開始の 120 分前までに予約してください。"
    assert (await _book(client, room, user_headers, today, "11:00", "12:00")).status_code == 201

    await _set_policy(client, room, admin_headers, allowed_roles=["ADMIN"])
    barred = await _book(client, room, user_headers, today, "13:00", "14:00")
    assert barred.status_code == 422
    assert barred.json()["error"]["code"] == "policy_not_allowed"


async def test_members_of_a_named_group_may_book_and_others_may_not(
    client: httpx.AsyncClient,
    admin_headers: Headers,
    make_user: UserFactory,
    login: LoginFactory,
    make_room: RoomFactory,
    tomorrow: date,
) -> None:
    room = await make_room()
    member, outsider = await make_user("member"), await make_user("outsider")
    group = await client.post("/api/admin/groups", json={"name": "Board"}, headers=admin_headers)
    group_id = group.json()["group_id"]
    await client.put(
        f"/api/admin/groups/{group_id}/members", json={"user_ids": [member]}, headers=admin_headers
    )
    await _set_policy(client, room, admin_headers, allowed_group_ids=[group_id])
    ok = await _book(client, room, await login(member), tomorrow, "10:00", "11:00")
    assert ok.status_code == 201, ok.text
    barred = await _book(client, room, await login(outsider), tomorrow, "11:00", "12:00")
    assert barred.json()["error"]["code"] == "policy_not_allowed"


async def test_an_administrator_is_not_bound(
    client: httpx.AsyncClient, admin_headers: Headers, make_room: RoomFactory, today: date
) -> None:
    room = await make_room()
    await _set_policy(
        client, room, admin_headers, max_minutes=60, min_notice_minutes=600, allowed_roles=["USER"]
    )
    booked = await _book(client, room, admin_headers, today, "10:00", "13:00")
    assert booked.status_code == 201, booked.text


async def test_moving_a_reservation_past_the_policy_is_refused(
    client: httpx.AsyncClient,
    admin_headers: Headers,
    user_headers: Headers,
    make_room: RoomFactory,
    tomorrow: date,
) -> None:
    room = await make_room()
    made = await _book(client, room, user_headers, tomorrow, "10:00", "11:00")
    reservation_id = made.json()["reservation_id"]
    await _set_policy(client, room, admin_headers, max_minutes=60)
    longer = await client.patch(
        f"/api/reservations/{reservation_id}",
        json={"end_time": "11:30"},
        headers={**user_headers, "Accept-Language": "ja"},
    )
    assert longer.status_code == 422, longer.text
    assert longer.json()["error"]["code"] == "policy_max_length"
    assert longer.json()["error"]["message"] == "この会議室は最長 1 時間まで予約できます。"
    moved = await client.patch(
        f"/api/reservations/{reservation_id}",
        json={"start_time": "14:00", "end_time": "15:00"},
        headers=user_headers,
    )
    assert moved.status_code == 200, moved.text


async def test_a_series_with_one_occurrence_past_the_horizon_is_refused(
    client: httpx.AsyncClient,
    admin_headers: Headers,
    user_headers: Headers,
    make_room: RoomFactory,
    tomorrow: date,
) -> None:
    room = await make_room(days=60)
    await _set_policy(client, room, admin_headers, max_days_ahead=14)
    body = {
        "start_date": tomorrow.isoformat(),
        "start_time": "10:00",
        "end_time": "11:00",
        "rule": "FREQ=WEEKLY;COUNT=3",  # +1, +8, +15 days: the last is past 14
    }
    refused = await client.post(f"/api/rooms/{room}/series", json=body, headers=user_headers)
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["code"] == "policy_too_far_ahead"
    mine = await client.get("/api/reservations/mine", headers=user_headers)
    assert mine.json() == []
    within = {**body, "rule": "FREQ=WEEKLY;COUNT=2"}
    booked = await client.post(f"/api/rooms/{room}/series", json=within, headers=user_headers)
    assert booked.status_code == 201, booked.text
    series_id = booked.json()["series_id"]
    longer = await client.patch(
        f"/api/series/{series_id}", json={"rule": "FREQ=WEEKLY;COUNT=3"}, headers=user_headers
    )
    assert longer.status_code == 422, longer.text
    assert longer.json()["error"]["code"] == "policy_too_far_ahead"
    by_admin = await client.post(
        f"/api/rooms/{room}/series",
        json={**body, "start_time": "12:00", "end_time": "13:00"},
        headers=admin_headers,
    )
    assert by_admin.status_code == 201, by_admin.text
