"""The audit log page: administrators only, the rows newest first with before/after,
filters (who, action, period), paging, the CSV link; English and Japanese, both
databases. The app's clock is pinned to 2030-01-07 09:00 in Tokyo (tests/conftest.py)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from mrs.accounts.models import Role
from mrs.audit import service as audit
from mrs.clock import FixedClock
from mrs.web.pages.admin_audit import PAGE_SIZE
from tests.conftest import browser_like_client

pytestmark = pytest.mark.both_databases
JA = {"accept-language": "ja"}


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with browser_like_client(app) as http:
        yield http


@pytest.fixture
async def admin(make_user: Any, page_login: Any) -> str:
    admin_id = await make_user("chief", role=Role.ADMIN)
    await page_login(admin_id)
    return admin_id


async def _group(client: httpx.AsyncClient, name: str) -> None:
    made = await client.post("/admin/groups", data={"name": name, "description": ""})
    assert made.status_code == 303, made.text


async def test_the_page_shows_changes_newest_first_with_before_and_after(
    client: httpx.AsyncClient, admin: str
) -> None:
    await _group(client, "Sales")
    await _group(client, "Legal")
    page = await client.get("/admin/audit")
    assert page.status_code == 200, page.text
    html = page.text
    assert 'href="/admin/audit"' in html  # the navigation item
    actions = re.findall(r"<code>([a-z_.]+)</code></th>", html)
    assert actions == ["group.create", "group.create"]
    assert html.count("Group created<br>") == 2  # each action named, its code below
    assert html.index("Legal") < html.index("Sales")
    assert "<code>name</code>: Sales" in html  # the fields one a line, not raw JSON
    assert "<td>chief</td>" in html
    assert "2 changes, newest first." in html
    assert 'href="/api/admin/audit?format=csv"' in html
    csv = await client.get("/api/admin/audit?format=csv")
    assert csv.status_code == 200
    assert csv.content.startswith(b"\xef\xbb\xbf")


async def test_filters_and_japanese(
    client: httpx.AsyncClient, admin: str, app: Any, clock: FixedClock
) -> None:
    await _group(client, "Sales")
    async with app.state.db.transaction() as session:
        await audit.record(
            session,
            action="room.create",
            subject_type="room",
            subject_id=7,
            after={"room_name": "Old"},
            actor_id=None,
            at=clock() - timedelta(days=40),
        )
    only_rooms = await client.get("/admin/audit", params={"action": "room."}, headers=JA)
    assert only_rooms.status_code == 200
    assert "監査ログ" in only_rooms.text
    assert "システム" in only_rooms.text  # no actor: the system
    assert re.findall(r"<code>([a-z_.]+)</code></th>", only_rooms.text) == ["room.create"]
    assert "action=room." in only_rooms.text  # the CSV link keeps the filter
    by_actor = await client.get("/admin/audit", params={"actor": "chief"})
    assert re.findall(r"<code>([a-z_.]+)</code></th>", by_actor.text) == ["group.create"]
    recent = await client.get("/admin/audit", params={"from": "2030-01-01", "to": "2030-01-07"})
    assert re.findall(r"<code>([a-z_.]+)</code></th>", recent.text) == ["group.create"]
    nothing = await client.get("/admin/audit", params={"to": "2029-01-01"})
    assert "Nothing was recorded that matches." in nothing.text


async def test_bad_filters_are_said_next_to_their_fields(
    client: httpx.AsyncClient, admin: str
) -> None:
    for params, field in (
        ({"actor": "<script>"}, "actor"),
        ({"action": "GROUP%"}, "action"),
        ({"from": "2030-02-30"}, "from"),
        ({"from": "2030-01-09", "to": "2030-01-08"}, "to"),
    ):
        page = await client.get("/admin/audit", params=params)
        assert page.status_code == 422, (params, page.status_code)
        assert f'id="{field}-error"' in page.text
    # What was typed is shown again, escaped.
    typed = await client.get("/admin/audit", params={"actor": "<script>"})
    assert 'value="&lt;script&gt;"' in typed.text


async def test_paging(client: httpx.AsyncClient, admin: str, app: Any, clock: FixedClock) -> None:
    async with app.state.db.transaction() as session:
        for number in range(PAGE_SIZE + 3):
            await audit.record(
                session,
                action="test.page",
                subject_type="test",
                subject_id=number,
                actor_id=None,
                at=clock() - timedelta(minutes=number),
            )
    first = await client.get("/admin/audit")
    assert first.text.count("<code>test.page</code>") == PAGE_SIZE
    assert "Page 1 of 2" in first.text
    assert 'href="/admin/audit?page=2"' in first.text
    second = await client.get("/admin/audit", params={"page": "2"})
    assert second.text.count("<code>test.page</code>") == 3
    assert "test 52" in second.text  # the oldest is last
    odd = await client.get("/admin/audit", params={"page": "-1"})
    assert odd.status_code == 200
    assert "Page 1 of 2" in odd.text


async def test_users_may_not_see_the_page(
    client: httpx.AsyncClient, make_user: Any, page_login: Any
) -> None:
    await page_login(await make_user())
    page = await client.get("/admin/audit")
    assert page.status_code == 403
    assert 'href="/admin/audit"' not in page.text


async def test_reservation_changes_are_shown_named_filtered_and_exported(
    client: httpx.AsyncClient,
    admin: str,
    make_user: Any,
    login: Any,
    make_room: Any,
    page_login: Any,
    tomorrow: Any,
) -> None:
    """An owner books, the administrator cancels it for them: both rows are named in
    either language, the owner's filter finds both, and the CSV holds them."""
    owner = await login(await make_user("owner"))
    await page_login(admin)  # the API login above cleared the page session
    room = await make_room("Sakura")
    api = {"Authorization": owner["Authorization"]}
    body = {"date": tomorrow.isoformat(), "start_time": "10:00", "end_time": "11:00"}
    made = await client.post(f"/api/rooms/{room}/reservations", json=body, headers=api)
    assert made.status_code == 201, made.text
    reservation_id = made.json()["reservation_id"]
    cancelled = await client.delete(f"/api/reservations/{reservation_id}", headers=api)
    assert cancelled.status_code == 204
    # (the owner cancelled that one; the administrator cancels a second one for them)
    again = await client.post(
        f"/api/rooms/{room}/reservations",
        json={**body, "start_time": "13:00", "end_time": "14:00"},
        headers=api,
    )
    await _cancel_as_page_admin(client, again.json()["reservation_id"])

    page = await client.get("/admin/audit", params={"action": "reservation."})
    actions = re.findall(r"<code>([a-z_.]+)</code></th>", page.text)
    assert actions == [
        "reservation.cancel",
        "reservation.create",
        "reservation.cancel",
        "reservation.create",
    ]
    assert "Reservation cancelled<br>" in page.text
    assert "(for owner)" in page.text  # the administrator acted for the owner
    assert "<code>start</code>: 10:00" in page.text
    assert "<code>status</code>: CANCELLED" in page.text
    assert "<code>reason</code>: Room needed" in page.text  # what the owner was told
    japanese = await client.get("/admin/audit", params={"action": "reservation."}, headers=JA)
    assert "予約の作成<br>" in japanese.text
    assert "予約の取り消し<br>" in japanese.text
    assert "owner の代理" in japanese.text

    by_owner = await client.get("/admin/audit", params={"actor": "owner"})
    assert len(re.findall(r"<code>reservation\.[a-z]+</code></th>", by_owner.text)) == 4
    by_admin = await client.get("/admin/audit", params={"actor": "chief"})
    assert re.findall(r"<code>(reservation\.[a-z]+)</code></th>", by_admin.text) == [
        "reservation.cancel"
    ]
    csv = await client.get("/api/admin/audit", params={"action": "reservation.", "format": "csv"})
    assert csv.status_code == 200
    lines = csv.content.decode("utf-8-sig").strip().splitlines()
    assert len(lines) == 5  # the header and the four rows
    assert ",chief,owner,reservation.cancel," in csv.text


async def _cancel_as_page_admin(client: httpx.AsyncClient, reservation_id: int) -> None:
    """The logged-in administrator (the page session) cancels through the page."""
    cancelled = await client.post(
        f"/reservations/{reservation_id}/cancel", data={"reason": "Room needed"}
    )
    assert cancelled.status_code == 303, cancelled.text
    assert "done=cancelled" in cancelled.headers["location"]
