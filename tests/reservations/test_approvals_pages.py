"""The approvals pages as a browser drives them (forms with CSRF), in English and
Japanese, on PostgreSQL and SQLite: the approvals page for admins and managers (403 for
others), approve and reject with a required reason, the managers section of a room's
policy page, the approvals link in the navigation, and a pending booking's words."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from mrs.accounts.models import Role
from mrs.clock import FixedClock
from mrs.db.engine import Database
from mrs.http.types import parse_hour_minute
from mrs.policies import service as policies
from mrs.reservations import approvals
from mrs.reservations import service as reservations_service
from mrs.reservations.models import Reservation
from tests.conftest import PageLogin, RoomFactory, UserFactory, browser_like_client

pytestmark = pytest.mark.both_databases

JA = {"accept-language": "ja"}


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with browser_like_client(app) as http:
        yield http


async def _approval_room(
    app: Any, make_room: RoomFactory, clock: FixedClock, name: str, admin: str
) -> int:
    room = await make_room(name)
    db: Database = app.state.db
    await policies.set_policy(
        db,
        settings=db.settings,
        room_id=room,
        values=policies.PolicyValues(approval_required=True),
        actor_id=admin,
        now=clock(),
    )
    return room


async def _book(app: Any, clock: FixedClock, user_id: str, room: int, day: date) -> int:
    db: Database = app.state.db
    answer = await reservations_service.reserve(
        db,
        settings=db.settings,
        user_id=user_id,
        room_id=room,
        day=day,
        start_minute=parse_hour_minute("10:00"),
        end_minute=parse_hour_minute("11:00"),
        now=clock(),
    )
    return answer.reservation_id


async def _status(db: Database, reservation_id: int) -> str:
    async with db.transaction() as session:
        return str(
            await session.scalar(
                select(Reservation.status).where(Reservation.reservation_id == reservation_id)
            )
        )


async def test_a_manager_approves_and_rejects_on_the_page(
    app: Any,
    client: httpx.AsyncClient,
    make_user: UserFactory,
    page_login: PageLogin,
    make_room: RoomFactory,
    clock: FixedClock,
    tomorrow: date,
) -> None:
    admin = await make_user("boss", role=Role.ADMIN)
    room = await _approval_room(app, make_room, clock, "Sakura", admin)
    other_room = await _approval_room(app, make_room, clock, "Momiji", admin)
    manager = await make_user("mgr")
    await approvals.set_managers(
        app.state.db, room_id=room, user_ids=[manager], actor_id=admin, now=clock()
    )
    owner = await make_user("owner")
    first = await _book(app, clock, owner, room, tomorrow)
    await _book(app, clock, owner, other_room, tomorrow)
    await page_login(manager)

    home = await client.get("/rooms")
    assert 'href="/admin/approvals"' in home.text  # the manager's navigation links it
    page = await client.get("/admin/approvals")
    assert page.status_code == 200
    assert "Sakura" in page.text
    assert "Momiji" not in page.text  # not their room
    japanese = await client.get("/admin/approvals", headers=JA)
    assert "承認待ち" in japanese.text
    assert "却下の理由" in japanese.text

    blank = await client.post(f"/admin/approvals/{first}/reject", data={"reason": " "})
    assert blank.status_code == 422
    assert f'id="reason-{first}-error"' in blank.text
    assert await _status(app.state.db, first) == "PENDING"

    approved = await client.post(f"/admin/approvals/{first}/approve", data={})
    assert approved.status_code == 303, approved.text
    shown = await client.get(approved.headers["location"], headers=JA)
    assert "予約を承認しました" in shown.text
    assert await _status(app.state.db, first) == "ACTIVE"
    # Decided already: the page says so (409), nothing changes.
    again = await client.post(f"/admin/approvals/{first}/reject", data={"reason": "late"})
    assert again.status_code == 409
    assert "no longer waiting for approval" in again.text


async def test_other_users_get_no_approvals_page_or_link(
    client: httpx.AsyncClient, make_user: UserFactory, page_login: PageLogin
) -> None:
    await page_login(await make_user())
    assert 'href="/admin/approvals"' not in (await client.get("/rooms")).text
    refused = await client.get("/admin/approvals")
    assert refused.status_code == 403


async def test_a_pending_booking_says_it_waits_for_approval(
    app: Any,
    client: httpx.AsyncClient,
    make_user: UserFactory,
    page_login: PageLogin,
    make_room: RoomFactory,
    clock: FixedClock,
    tomorrow: date,
) -> None:
    admin = await make_user("boss", role=Role.ADMIN)
    room = await _approval_room(app, make_room, clock, "Kaede", admin)
    owner = await make_user("waiting")
    booked = await _book(app, clock, owner, room, tomorrow)
    await page_login(owner)
    english = await client.get(f"/reservations/{booked}")
    assert "Waiting for approval" in english.text
    japanese = await client.get("/reservations", headers=JA)
    assert "承認待ち" in japanese.text


async def test_an_admin_sets_managers_on_the_policy_page(
    app: Any,
    client: httpx.AsyncClient,
    make_user: UserFactory,
    page_login: PageLogin,
    make_room: RoomFactory,
) -> None:
    await page_login(await make_user("boss", role=Role.ADMIN))
    manager = await make_user("keeper")
    room = await make_room("Tsubaki")
    page = await client.get(f"/admin/rooms/{room}/policy")
    assert "Room managers" in page.text
    assert (
        "会議室の管理担当者" in (await client.get(f"/admin/rooms/{room}/policy", headers=JA)).text
    )
    unknown = await client.post(f"/admin/rooms/{room}/managers", data={"user_ids": "ghost"})
    assert unknown.status_code == 422
    assert 'id="user_ids-error"' in unknown.text
    assert "ghost" in unknown.text
    saved = await client.post(f"/admin/rooms/{room}/managers", data={"user_ids": manager})
    assert saved.status_code == 303, saved.text
    assert await approvals.managers_of(app.state.db, room_id=room) == [manager]
    shown = await client.get(saved.headers["location"])
    assert f">{manager}</textarea>" in shown.text
