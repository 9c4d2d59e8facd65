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
    actions = re.findall(r'<th scope="row"><code>([^<]*)</code></th>', html)
    assert actions == ["group.create", "group.create"]
    assert html.index("Legal") < html.index("Sales")
    assert "&#34;name&#34;: &#34;Sales&#34;" in html
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
