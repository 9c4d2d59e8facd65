"""Every operation of the API that changes something leaves an audit row.

The operations are read from the app's own OpenAPI document when the tests are collected:
each POST, PUT, PATCH and DELETE is either in SCENARIOS (a small successful call, and the
action and actor its audit row must name) or in EXCLUDED with the reason it records
nothing. An operation in neither fails its test, so an endpoint added later cannot go
unaudited by accident.

Adding a scenario is a few lines: an `async def` that makes what the call needs (through
`World`) and returns the response, and one `Scenario(...)` entry keyed "METHOD path".
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, ClassVar

import httpx
import pytest
from sqlalchemy import func, select

from mrs.accounts import password_reset
from mrs.accounts.models import PasswordResetToken, Role, UserStatus
from mrs.app import spec_app
from mrs.audit.models import AuditEntry
from mrs.clock import system_clock
from mrs.db.engine import Database
from tests.conftest import DEFAULT_PASSWORD, LoginFactory, RoomFactory, UserFactory

pytestmark = pytest.mark.both_databases

MUTATING = ("post", "put", "patch", "delete")

# Operations that change no recorded state of the site, or whose record is elsewhere.
# Each needs a reason; anything else that mutates must have a scenario.
EXCLUDED: dict[str, str] = {
    # Sessions, not changes: a login or logout changes nothing about the user, and the
    # login history (login_attempt, user_session) already keeps who came and went.
    "POST /api/auth/login": "a session begins: kept in the login history, not a change",
    "POST /api/auth/logout": "the caller's own session ends: like logging out anywhere",
    "DELETE /api/me/sessions": "the caller logs out their other devices: sessions, not "
    "a change to the user (an administrator's end-sessions IS audited)",
    "DELETE /api/me/sessions/{session_id}": "the caller logs out one of their devices",
    # A dry run: it answers which dates are free and writes nothing.
    "POST /api/rooms/{room_id}/series/preview": "writes nothing (a dry run of a series)",
}


@dataclass
class World:
    """What a scenario works with: the client, an administrator and a user (their ids
    and headers), a room open for the coming days, and the factories to make more."""

    client: httpx.AsyncClient
    make_user: UserFactory
    login: LoginFactory
    make_room: RoomFactory
    admin: str
    admin_headers: dict[str, str]
    user: str
    user_headers: dict[str, str]
    room_id: int
    today: date
    db: Database
    # The actor of what the system does for an anonymous caller (audit actor_id NULL).
    system: ClassVar[None] = None

    @property
    def tomorrow(self) -> date:
        return self.today + timedelta(days=1)

    async def ok(self, response: httpx.Response) -> httpx.Response:
        assert response.status_code < 300, response.text
        return response

    async def reserve(self, start: str = "09:00", end: str = "10:00") -> int:
        """A reservation of the user's tomorrow in the room."""
        body = {"date": self.tomorrow.isoformat(), "start_time": start, "end_time": end}
        made = await self.ok(
            await self.client.post(
                f"/api/rooms/{self.room_id}/reservations", json=body, headers=self.user_headers
            )
        )
        return int(made.json()["reservation_id"])

    async def series(self) -> int:
        """A series of the user's: three days in a row from tomorrow, 14:00-15:00."""
        body = {
            "title": "Daily sync",
            "start_date": self.tomorrow.isoformat(),
            "start_time": "14:00",
            "end_time": "15:00",
            "rule": "FREQ=DAILY;COUNT=3",
        }
        made = await self.ok(
            await self.client.post(
                f"/api/rooms/{self.room_id}/series", json=body, headers=self.user_headers
            )
        )
        return int(made.json()["series_id"])

    async def group(self) -> int:
        made = await self.ok(
            await self.client.post(
                "/api/admin/groups", json={"name": "Sales"}, headers=self.admin_headers
            )
        )
        return int(made.json()["group_id"])

    async def equipment(self) -> str:
        body = {"code": "projector", "name_en": "Projector", "name_ja": "プロジェクター"}
        await self.ok(
            await self.client.post("/api/admin/equipment", json=body, headers=self.admin_headers)
        )
        return "projector"


Call = Callable[[World], Awaitable[httpx.Response]]


@dataclass(frozen=True)
class Scenario:
    """One successful call, and the audit row it must leave: `action`, and `actor` (a
    World attribute naming a user id, "admin" or "user", or a literal user id)."""

    action: str
    actor: str
    call: Call


# --- the scenarios, one per operation ---


async def _change_password(w: World) -> httpx.Response:
    body = {"current_password": DEFAULT_PASSWORD, "new_password": "a-new-long-passphrase-42"}
    return await w.client.post("/api/me/password", json=body, headers=w.user_headers)


async def _register(w: World) -> httpx.Response:
    body = {
        "user_id": "applicant",
        "first_name": "Hana",
        "last_name": "Sato",
        "email": "applicant@example.com",
        "password": "a-long-enough-passphrase-1",
    }
    return await w.client.post("/api/users/register", json=body)


async def _approve(w: World) -> httpx.Response:
    pending = await w.make_user("pending1", status=UserStatus.PENDING)
    return await w.client.post(f"/api/admin/approve-user/{pending}", headers=w.admin_headers)


async def _reject(w: World) -> httpx.Response:
    pending = await w.make_user("pending2", status=UserStatus.PENDING)
    return await w.client.post(f"/api/admin/reject-user/{pending}", headers=w.admin_headers)


async def _disable(w: World) -> httpx.Response:
    return await w.client.post(f"/api/admin/users/{w.user}/disable", headers=w.admin_headers)


async def _enable(w: World) -> httpx.Response:
    disabled = await w.make_user("disabled1", status=UserStatus.DISABLED)
    return await w.client.post(f"/api/admin/users/{disabled}/enable", headers=w.admin_headers)


async def _role(w: World) -> httpx.Response:
    return await w.client.put(
        f"/api/admin/users/{w.user}/role", json={"role": "ADMIN"}, headers=w.admin_headers
    )


async def _end_sessions(w: World) -> httpx.Response:
    return await w.client.post(f"/api/admin/users/{w.user}/end-sessions", headers=w.admin_headers)


async def _create_group(w: World) -> httpx.Response:
    return await w.client.post(
        "/api/admin/groups", json={"name": "Engineering"}, headers=w.admin_headers
    )


async def _rename_group(w: World) -> httpx.Response:
    group_id = await w.group()
    return await w.client.patch(
        f"/api/admin/groups/{group_id}", json={"name": "Marketing"}, headers=w.admin_headers
    )


async def _delete_group(w: World) -> httpx.Response:
    group_id = await w.group()
    return await w.client.delete(f"/api/admin/groups/{group_id}", headers=w.admin_headers)


async def _group_members(w: World) -> httpx.Response:
    group_id = await w.group()
    return await w.client.put(
        f"/api/admin/groups/{group_id}/members",
        json={"user_ids": [w.user]},
        headers=w.admin_headers,
    )


async def _create_room(w: World) -> httpx.Response:
    return await w.client.post(
        "/api/admin/rooms", json={"room_name": "Annex", "capacity": 4}, headers=w.admin_headers
    )


async def _update_room(w: World) -> httpx.Response:
    # Its size, and whether its calendar feed is published (one of a room's fields).
    return await w.client.patch(
        f"/api/admin/rooms/{w.room_id}",
        json={"capacity": 12, "has_feed": True},
        headers=w.admin_headers,
    )


async def _open_room(w: World) -> httpx.Response:
    later = w.today + timedelta(days=30)
    return await w.client.post(
        f"/api/admin/rooms/{w.room_id}/open",
        json={"from_date": later.isoformat(), "to_date": later.isoformat()},
        headers=w.admin_headers,
    )


async def _close_room(w: World) -> httpx.Response:
    day = w.today + timedelta(days=5)
    return await w.client.post(
        f"/api/admin/rooms/{w.room_id}/close",
        json={"from_date": day.isoformat(), "to_date": day.isoformat()},
        headers=w.admin_headers,
    )


async def _create_equipment(w: World) -> httpx.Response:
    body = {"code": "whiteboard", "name_en": "Whiteboard", "name_ja": "ホワイトボード"}
    return await w.client.post("/api/admin/equipment", json=body, headers=w.admin_headers)


async def _update_equipment(w: World) -> httpx.Response:
    code = await w.equipment()
    return await w.client.patch(
        f"/api/admin/equipment/{code}", json={"name_en": "Beamer"}, headers=w.admin_headers
    )


async def _delete_equipment(w: World) -> httpx.Response:
    code = await w.equipment()
    return await w.client.delete(f"/api/admin/equipment/{code}", headers=w.admin_headers)


async def _add_closure_day(w: World) -> httpx.Response:
    day = w.today + timedelta(days=6)
    return await w.client.post(
        "/api/admin/closure-days",
        json={"date": day.isoformat(), "label": "Founding day"},
        headers=w.admin_headers,
    )


async def _delete_closure_day(w: World) -> httpx.Response:
    await w.ok(await _add_closure_day(w))
    day = w.today + timedelta(days=6)
    return await w.client.delete(
        f"/api/admin/closure-days/{day.isoformat()}", headers=w.admin_headers
    )


async def _reserve(w: World) -> httpx.Response:
    body = {"date": w.tomorrow.isoformat(), "start_time": "11:00", "end_time": "12:00"}
    return await w.client.post(
        f"/api/rooms/{w.room_id}/reservations", json=body, headers=w.user_headers
    )


async def _cancel(w: World) -> httpx.Response:
    reservation_id = await w.reserve()
    return await w.client.delete(f"/api/reservations/{reservation_id}", headers=w.user_headers)


async def _change(w: World) -> httpx.Response:
    reservation_id = await w.reserve()
    return await w.client.patch(
        f"/api/reservations/{reservation_id}", json={"title": "Kick-off"}, headers=w.user_headers
    )


async def _create_series(w: World) -> httpx.Response:
    body = {
        "start_date": w.tomorrow.isoformat(),
        "start_time": "16:00",
        "end_time": "17:00",
        "rule": "FREQ=DAILY;COUNT=2",
    }
    return await w.client.post(f"/api/rooms/{w.room_id}/series", json=body, headers=w.user_headers)


async def _change_series(w: World) -> httpx.Response:
    series_id = await w.series()
    return await w.client.patch(
        f"/api/series/{series_id}", json={"title": "Stand-up"}, headers=w.user_headers
    )


async def _cancel_series(w: World) -> httpx.Response:
    series_id = await w.series()
    return await w.client.delete(f"/api/series/{series_id}", headers=w.user_headers)


async def _mail_preferences(w: World) -> httpx.Response:
    body = {"own_bookings": False, "invitations": True, "reminder_minutes": 15}
    return await w.client.put("/api/me/mail-preferences", json=body, headers=w.user_headers)


async def _delegates(w: World) -> httpx.Response:
    delegate = await w.make_user("walkdelegate")
    body = {"user_ids": [delegate]}
    return await w.client.put("/api/me/delegates", json=body, headers=w.user_headers)


async def _create_feed(w: World) -> httpx.Response:
    return await w.client.post("/api/me/calendar-feed", headers=w.user_headers)


async def _revoke_feed(w: World) -> httpx.Response:
    await w.ok(await _create_feed(w))
    return await w.client.delete("/api/me/calendar-feed", headers=w.user_headers)


async def _room_policy(w: World) -> httpx.Response:
    body = {"max_minutes": 120, "max_days_ahead": 30, "allowed_roles": ["USER"]}
    return await w.client.put(
        f"/api/admin/rooms/{w.room_id}/policy", json=body, headers=w.admin_headers
    )


async def _group_quota(w: World) -> httpx.Response:
    body = {"max_future_reservations": 10, "max_hours_per_week": 8}
    return await w.client.put(
        f"/api/admin/groups/{await w.group()}/quota", json=body, headers=w.admin_headers
    )


async def _user_quota(w: World) -> httpx.Response:
    body = {"max_future_reservations": 40, "reason": "Organises the quarterly reviews"}
    return await w.client.put(
        f"/api/admin/users/{w.user}/quota", json=body, headers=w.admin_headers
    )


async def _delete_user_quota(w: World) -> httpx.Response:
    await w.ok(await _user_quota(w))
    return await w.client.delete(f"/api/admin/users/{w.user}/quota", headers=w.admin_headers)


async def _check_in(w: World) -> httpx.Response:
    """Today 09:00 in a room asking for check-in: the pinned now (09:00) is in its window."""
    await w.ok(
        await w.client.put(
            f"/api/admin/rooms/{w.room_id}/policy",
            json={"checkin_required": True, "checkin_grace_minutes": 15},
            headers=w.admin_headers,
        )
    )
    body = {"date": w.today.isoformat(), "start_time": "09:00", "end_time": "10:00"}
    made = await w.ok(
        await w.client.post(
            f"/api/rooms/{w.room_id}/reservations", json=body, headers=w.user_headers
        )
    )
    return await w.client.post(
        f"/api/reservations/{made.json()['reservation_id']}/check-in", headers=w.user_headers
    )


async def _pending_booking(w: World) -> int:
    """A booking of the user's waiting for approval (the room now requires it)."""
    body = {"approval_required": True}
    await w.ok(
        await w.client.put(
            f"/api/admin/rooms/{w.room_id}/policy", json=body, headers=w.admin_headers
        )
    )
    return await w.reserve()


async def _approve_booking(w: World) -> httpx.Response:
    pending = await _pending_booking(w)
    return await w.client.post(
        f"/api/admin/pending-reservations/{pending}/approve", headers=w.admin_headers
    )


async def _reject_booking(w: World) -> httpx.Response:
    pending = await _pending_booking(w)
    return await w.client.post(
        f"/api/admin/pending-reservations/{pending}/reject",
        json={"reason": "The board meets then"},
        headers=w.admin_headers,
    )


async def _room_managers(w: World) -> httpx.Response:
    return await w.client.put(
        f"/api/admin/rooms/{w.room_id}/managers",
        json={"user_ids": [w.user]},
        headers=w.admin_headers,
    )


async def _ask_password_reset(w: World) -> httpx.Response:
    # An active account: audited with no actor (nobody is logged in). An unknown one
    # writes no audit row (tests/accounts/test_password_reset.py), and either way the
    # caller gets the same answer, so the audit reveals nothing to the caller.
    return await w.client.post("/api/auth/password-reset", json={"email": f"{w.user}@example.com"})


async def _confirm_password_reset(w: World) -> httpx.Response:
    token = password_reset.new_token()
    async with w.db.transaction() as session:
        session.add(
            PasswordResetToken(
                token_hash=password_reset.hash_token(token),
                user_id=w.user,
                created_at=system_clock(),
                expires_at=system_clock() + timedelta(minutes=30),
            )
        )
    body = {"token": token, "new_password": "a-reset-long-passphrase-7"}
    return await w.client.post("/api/auth/password-reset/confirm", json=body)


async def _admin_password_reset(w: World) -> httpx.Response:
    return await w.client.post(f"/api/admin/users/{w.user}/password-reset", headers=w.admin_headers)


SCENARIOS: dict[str, Scenario] = {
    "POST /api/me/password": Scenario("user.password", "user", _change_password),
    "POST /api/users/register": Scenario("user.register", "applicant", _register),
    "POST /api/auth/password-reset": Scenario(
        "user.password_reset_request", "system", _ask_password_reset
    ),
    "POST /api/auth/password-reset/confirm": Scenario(
        "user.password_reset", "user", _confirm_password_reset
    ),
    "POST /api/admin/users/{user_id}/password-reset": Scenario(
        "user.password_reset_sent", "admin", _admin_password_reset
    ),
    "POST /api/admin/approve-user/{user_id}": Scenario("user.approve", "admin", _approve),
    "POST /api/admin/reject-user/{user_id}": Scenario("user.reject", "admin", _reject),
    "POST /api/admin/users/{user_id}/disable": Scenario("user.disable", "admin", _disable),
    "POST /api/admin/users/{user_id}/enable": Scenario("user.enable", "admin", _enable),
    "PUT /api/admin/users/{user_id}/role": Scenario("user.role", "admin", _role),
    "POST /api/admin/users/{user_id}/end-sessions": Scenario(
        "user.end_sessions", "admin", _end_sessions
    ),
    "POST /api/admin/groups": Scenario("group.create", "admin", _create_group),
    "PATCH /api/admin/groups/{group_id}": Scenario("group.rename", "admin", _rename_group),
    "DELETE /api/admin/groups/{group_id}": Scenario("group.delete", "admin", _delete_group),
    "PUT /api/admin/groups/{group_id}/members": Scenario("group.members", "admin", _group_members),
    "POST /api/admin/rooms": Scenario("room.create", "admin", _create_room),
    "PATCH /api/admin/rooms/{room_id}": Scenario("room.update", "admin", _update_room),
    "POST /api/admin/rooms/{room_id}/open": Scenario("room.open_dates", "admin", _open_room),
    "POST /api/admin/rooms/{room_id}/close": Scenario("room.close_dates", "admin", _close_room),
    "POST /api/admin/equipment": Scenario("equipment.create", "admin", _create_equipment),
    "PATCH /api/admin/equipment/{code}": Scenario("equipment.update", "admin", _update_equipment),
    "DELETE /api/admin/equipment/{code}": Scenario("equipment.delete", "admin", _delete_equipment),
    "POST /api/admin/closure-days": Scenario("closure_day.create", "admin", _add_closure_day),
    "DELETE /api/admin/closure-days/{day}": Scenario(
        "closure_day.delete", "admin", _delete_closure_day
    ),
    "POST /api/rooms/{room_id}/reservations": Scenario("reservation.create", "user", _reserve),
    "DELETE /api/reservations/{reservation_id}": Scenario("reservation.cancel", "user", _cancel),
    "PATCH /api/reservations/{reservation_id}": Scenario("reservation.update", "user", _change),
    "POST /api/reservations/{reservation_id}/check-in": Scenario(
        "reservation.checkin", "user", _check_in
    ),
    "POST /api/rooms/{room_id}/series": Scenario("series.create", "user", _create_series),
    "PATCH /api/series/{series_id}": Scenario("series.update", "user", _change_series),
    "DELETE /api/series/{series_id}": Scenario("series.cancel", "user", _cancel_series),
    "PUT /api/me/mail-preferences": Scenario("user.mail_preferences", "user", _mail_preferences),
    "PUT /api/me/delegates": Scenario("user.delegates", "user", _delegates),
    "POST /api/me/calendar-feed": Scenario("calendar_feed.create", "user", _create_feed),
    "DELETE /api/me/calendar-feed": Scenario("calendar_feed.revoke", "user", _revoke_feed),
    "PUT /api/admin/rooms/{room_id}/policy": Scenario("room.policy", "admin", _room_policy),
    "PUT /api/admin/groups/{group_id}/quota": Scenario("group.quota", "admin", _group_quota),
    "PUT /api/admin/users/{user_id}/quota": Scenario("user.quota", "admin", _user_quota),
    "DELETE /api/admin/users/{user_id}/quota": Scenario(
        "user.quota.delete", "admin", _delete_user_quota
    ),
    "POST /api/admin/pending-reservations/{reservation_id}/approve": Scenario(
        "reservation.approved", "admin", _approve_booking
    ),
    "POST /api/admin/pending-reservations/{reservation_id}/reject": Scenario(
        "reservation.rejected", "admin", _reject_booking
    ),
    "PUT /api/admin/rooms/{room_id}/managers": Scenario(
        "room.managers.update", "admin", _room_managers
    ),
}


def mutating_operations() -> list[str]:
    """Every POST/PUT/PATCH/DELETE of the app's OpenAPI document, as "METHOD path"."""
    paths: dict[str, dict[str, Any]] = spec_app().openapi()["paths"]
    return sorted(
        f"{method.upper()} {path}"
        for path, operations in paths.items()
        for method in operations
        if method in MUTATING
    )


OPERATIONS = mutating_operations()


def test_the_tables_name_only_operations_that_exist_and_give_reasons() -> None:
    """A scenario or exclusion left behind by a removed route would hide nothing, but
    says something false; an exclusion needs its reason; nothing is in both."""
    assert sorted(set(SCENARIOS) - set(OPERATIONS)) == []
    assert sorted(set(EXCLUDED) - set(OPERATIONS)) == []
    assert set(SCENARIOS) & set(EXCLUDED) == set()
    assert all(reason.strip() for reason in EXCLUDED.values())


async def _last_audit_id(db: Database) -> int:
    async with db.snapshot() as session:
        return int(await session.scalar(select(func.max(AuditEntry.audit_id))) or 0)


async def _rows_after(db: Database, audit_id: int) -> list[AuditEntry]:
    async with db.snapshot() as session:
        rows = await session.scalars(
            select(AuditEntry).where(AuditEntry.audit_id > audit_id).order_by(AuditEntry.audit_id)
        )
        return list(rows.all())


@pytest.fixture
async def world(
    client: httpx.AsyncClient,
    make_user: UserFactory,
    login: LoginFactory,
    make_room: RoomFactory,
    today: date,
    app: Any,
) -> World:
    admin = await make_user("walkadmin", role=Role.ADMIN)
    user = await make_user("walkuser")
    return World(
        client=client,
        make_user=make_user,
        login=login,
        make_room=make_room,
        admin=admin,
        admin_headers=await login(admin),
        user=user,
        user_headers=await login(user),
        room_id=await make_room("Walk room", days=14),
        today=today,
        db=app.state.db,
    )


@pytest.mark.parametrize("operation", [op for op in OPERATIONS if op not in EXCLUDED])
async def test_the_operation_leaves_an_audit_row(operation: str, world: World, app: Any) -> None:
    scenario = SCENARIOS.get(operation)
    assert scenario is not None, (
        f"{operation} changes something and is not audited by any test: "
        "add a scenario or an exclusion with a reason (tests/audit/"
        "test_every_mutation_is_audited.py, SCENARIOS or EXCLUDED)"
    )
    db: Database = app.state.db
    before = await _last_audit_id(db)
    response = await scenario.call(world)
    assert response.status_code < 300, response.text
    # The scenario's own setup may write rows too: the call's row is its request's.
    request_id = response.headers["X-Request-ID"]
    rows = [row for row in await _rows_after(db, before) if row.request_id == request_id]
    actor = getattr(world, scenario.actor, scenario.actor)
    assert [(row.action, row.actor_id) for row in rows] == [(scenario.action, actor)], (
        f"{operation}: expected one {scenario.action} row by {actor}, got "
        f"{[(row.action, row.actor_id) for row in rows]}"
    )
