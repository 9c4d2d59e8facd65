"""Quotas: group quotas and user overrides through the admin API (audited, admins
only), what a user is told about their own, and bookings refused past them, on
PostgreSQL and SQLite."""

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


async def _group(client: httpx.AsyncClient, admin: Headers, name: str, members: list[str]) -> int:
    made = await client.post("/api/admin/groups", json={"name": name}, headers=admin)
    group_id = int(made.json()["group_id"])
    await client.put(
        f"/api/admin/groups/{group_id}/members", json={"user_ids": members}, headers=admin
    )
    return group_id


async def _override(
    client: httpx.AsyncClient, admin: Headers, user_id: str, **body: Any
) -> httpx.Response:
    return await client.put(f"/api/admin/users/{user_id}/quota", json=body, headers=admin)


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


async def _audit(db: Database, action: str) -> list[AuditEntry]:
    async with db.snapshot() as session:
        return list(
            (await session.scalars(select(AuditEntry).where(AuditEntry.action == action))).all()
        )


async def test_a_user_in_several_groups_gets_the_most_generous_and_an_override_wins(
    client: httpx.AsyncClient,
    admin_headers: Headers,
    make_user: UserFactory,
    login: LoginFactory,
    db: Database,
) -> None:
    user = await make_user("yuki")
    headers = await login(user)
    mine = await client.get("/api/me/quota", headers=headers)
    assert mine.json()["limits"] == {"max_future_reservations": None, "max_hours_per_week": None}

    small = await _group(client, admin_headers, "Interns", [user])
    large = await _group(client, admin_headers, "Sales", [user])
    for group_id, future, hours in ((small, 3, 20), (large, 5, 10)):
        put = await client.put(
            f"/api/admin/groups/{group_id}/quota",
            json={"max_future_reservations": future, "max_hours_per_week": hours},
            headers=admin_headers,
        )
        assert put.status_code == 200, put.text
    read = await client.get(f"/api/admin/groups/{small}/quota", headers=admin_headers)
    assert read.json() == {
        "group_id": small,
        "has_quota": True,
        "max_future_reservations": 3,
        "max_hours_per_week": 20,
    }
    mine = await client.get("/api/me/quota", headers=headers)
    assert mine.json()["limits"] == {"max_future_reservations": 5, "max_hours_per_week": 20}

    overridden = await _override(
        client, admin_headers, user, max_future_reservations=1, reason="Books the big room daily"
    )
    assert overridden.status_code == 200, overridden.text
    assert overridden.json()["effective"] == {
        "max_future_reservations": 1,
        "max_hours_per_week": None,
    }
    assert overridden.json()["override"]["reason"] == "Books the big room daily"

    removed = await client.delete(f"/api/admin/users/{user}/quota", headers=admin_headers)
    assert removed.status_code == 200
    assert removed.json()["override"] is None
    assert removed.json()["effective"]["max_future_reservations"] == 5

    assert len(await _audit(db, "group.quota")) == 2
    [set_row] = await _audit(db, "user.quota")
    assert json.loads(set_row.after or "{}")["reason"] == "Books the big room daily"
    assert len(await _audit(db, "user.quota.delete")) == 1


@pytest.mark.parametrize(
    "body",
    [
        {"max_future_reservations": 1},
        {"max_future_reservations": 1, "reason": "   "},
        {"max_future_reservations": -1, "reason": "why"},
        {"max_hours_per_week": 7 * 24 + 1, "reason": "why"},
    ],
)
async def test_an_override_needs_a_reason_and_sensible_limits(
    client: httpx.AsyncClient, admin_headers: Headers, make_user: UserFactory, body: dict[str, Any]
) -> None:
    user = await make_user()
    refused = await _override(client, admin_headers, user, **body)
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["code"] == "validation_error"


async def test_only_admins_manage_quotas_and_unknown_subjects_are_404(
    client: httpx.AsyncClient, user_headers: Headers, admin_headers: Headers
) -> None:
    assert (await client.get("/api/admin/groups/1/quota", headers=user_headers)).status_code == 403
    forbidden = await _override(client, user_headers, "someone", reason="x")
    assert forbidden.status_code == 403
    no_group = await client.get("/api/admin/groups/424242/quota", headers=admin_headers)
    assert no_group.status_code == 404
    no_user = await client.get("/api/admin/users/nobody-here/quota", headers=admin_headers)
    assert no_user.status_code == 404


async def test_bookings_past_the_future_reservations_quota_are_refused(
    client: httpx.AsyncClient,
    admin_headers: Headers,
    make_user: UserFactory,
    login: LoginFactory,
    make_room: RoomFactory,
    tomorrow: date,
) -> None:
    user = await make_user()
    headers = await login(user)
    room = await make_room()
    await _override(client, admin_headers, user, max_future_reservations=2, reason="trial")
    first = await _book(client, room, headers, tomorrow, "10:00", "11:00")
    assert (await _book(client, room, headers, tomorrow, "11:00", "12:00")).status_code == 201
    third = await _book(client, room, headers, tomorrow, "13:00", "14:00", "ja")
    assert third.status_code == 422
    assert third.json()["error"]["code"] == "quota_future_reservations"
    assert third.json()["error"]["message"] == "今後の予約は最大 2 件までです。"
    usage = (await client.get("/api/me/quota", headers=headers)).json()["usage"]
    assert usage["future_reservations"] == 2
    cancelled = await client.delete(
        f"/api/reservations/{first.json()['reservation_id']}", headers=headers
    )
    assert cancelled.status_code == 204
    assert (await _book(client, room, headers, tomorrow, "13:00", "14:00")).status_code == 201


async def test_bookings_past_the_hours_per_week_are_refused_and_the_next_week_is_free(
    client: httpx.AsyncClient,
    admin_headers: Headers,
    make_user: UserFactory,
    login: LoginFactory,
    make_room: RoomFactory,
    tomorrow: date,
) -> None:
    user = await make_user()
    headers = await login(user)
    room = await make_room(days=14)
    await _override(client, admin_headers, user, max_hours_per_week=2, reason="trial")
    assert (await _book(client, room, headers, tomorrow, "10:00", "11:00")).status_code == 201
    assert (await _book(client, room, headers, tomorrow, "11:00", "12:00")).status_code == 201
    over = await _book(client, room, headers, tomorrow, "13:00", "13:30")
    assert over.status_code == 422
    error = over.json()["error"]
    assert error["code"] == "quota_hours_per_week"
    assert error["message"] == "You can book at most 2 hours in the week of 2030-01-07."
    next_week = tomorrow + timedelta(days=7)
    assert (await _book(client, room, headers, next_week, "13:00", "15:00")).status_code == 201
    usage = (await client.get("/api/me/quota", headers=headers)).json()["usage"]
    assert usage == {"future_reservations": 3, "week_start": "2030-01-07", "hours_this_week": 2.0}


async def test_a_series_past_the_quota_is_refused_whole(
    client: httpx.AsyncClient,
    admin_headers: Headers,
    make_user: UserFactory,
    login: LoginFactory,
    make_room: RoomFactory,
    tomorrow: date,
) -> None:
    user = await make_user()
    headers = await login(user)
    room = await make_room(days=60)
    await _override(client, admin_headers, user, max_future_reservations=3, reason="trial")
    body = {
        "start_date": tomorrow.isoformat(),
        "start_time": "10:00",
        "end_time": "11:00",
        "rule": "FREQ=WEEKLY;COUNT=4",
    }
    refused = await client.post(f"/api/rooms/{room}/series", json=body, headers=headers)
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["code"] == "quota_future_reservations"
    exact = {**body, "rule": "FREQ=WEEKLY;COUNT=3"}
    assert (
        await client.post(f"/api/rooms/{room}/series", json=exact, headers=headers)
    ).status_code == 201


async def test_the_site_default_quota_applies_without_groups_or_override(
    app: Any,
    client: httpx.AsyncClient,
    user_headers: Headers,
    make_room: RoomFactory,
    tomorrow: date,
) -> None:
    app.state.settings.policy_max_future_reservations = 1
    room = await make_room()
    assert (await _book(client, room, user_headers, tomorrow, "10:00", "11:00")).status_code == 201
    second = await _book(client, room, user_headers, tomorrow, "11:00", "12:00")
    assert second.json()["error"]["code"] == "quota_future_reservations"
