"""The policy and quota pages as a browser drives them (forms with CSRF, no JavaScript),
in English and Japanese, on PostgreSQL and SQLite; and a booking refused by a policy
through the booking page, in words."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import httpx
import pytest

from mrs.accounts.models import Role
from mrs.policies import quotas, service
from tests.conftest import PageLogin, RoomFactory, UserFactory, browser_like_client

pytestmark = pytest.mark.both_databases

JA = {"accept-language": "ja"}


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with browser_like_client(app) as http:
        yield http


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


async def test_an_admin_sets_a_room_policy_through_its_page(
    app: Any,
    client: httpx.AsyncClient,
    make_user: UserFactory,
    page_login: PageLogin,
    make_room: RoomFactory,
) -> None:
    await page_login(await make_user("boss", role=Role.ADMIN))
    room = await make_room("Sakura")
    room_page = await client.get(f"/admin/rooms/{room}")
    assert f'href="/admin/rooms/{room}/policy"' in room_page.text

    page = await client.get(f"/admin/rooms/{room}/policy")
    assert page.status_code == 200
    assert "Booking policy of Sakura" in page.text
    assert "In force now: no limit" in page.text  # the site's default
    japanese = await client.get(f"/admin/rooms/{room}/policy", headers=JA)
    assert "Sakura の予約ルール" in japanese.text

    refused = await client.post(
        f"/admin/rooms/{room}/policy", data={"max_minutes": "0", "max_days_ahead": "soon"}
    )
    assert refused.status_code == 422
    assert 'id="max_minutes-error"' in refused.text
    assert 'id="max_days_ahead-error"' in refused.text
    assert 'value="soon"' in refused.text  # what was typed, shown again

    saved = await client.post(
        f"/admin/rooms/{room}/policy",
        data={"max_minutes": "120", "allowed_roles": "USER", "checkin_required": "on"},
    )
    assert saved.status_code == 303, saved.text
    shown = await client.get(saved.headers["location"])
    assert (
        "The room&#39;s policy is saved." in shown.text
        or "The room's policy is saved." in shown.text
    )
    view = await service.get_policy(app.state.db, settings=app.state.settings, room_id=room)
    assert view.values.max_minutes == 120
    assert view.values.allowed_roles == ["USER"]
    assert view.values.checkin_required is True


async def test_an_admin_sets_group_quotas_and_user_overrides_through_the_quotas_page(
    app: Any,
    client: httpx.AsyncClient,
    make_user: UserFactory,
    page_login: PageLogin,
) -> None:
    await page_login(await make_user("boss", role=Role.ADMIN))
    ann = await make_user("ann")
    made = await client.post("/admin/groups", data={"name": "Sales", "description": ""})
    group_id = int(made.headers["location"].split("/")[3])

    page = await client.get("/admin/quotas")
    assert page.status_code == 200
    assert 'href="/admin/quotas"' in page.text  # the nav item
    assert "No user has an override." in page.text
    assert "予約の上限" in (await client.get("/admin/quotas", headers=JA)).text

    bad = await client.post(f"/admin/quotas/groups/{group_id}", data={"max_hours_per_week": "-1"})
    assert bad.status_code == 422
    assert "Enter a value of at least 0." in bad.text
    ok = await client.post(
        f"/admin/quotas/groups/{group_id}", data={"max_future_reservations": "4"}
    )
    assert ok.status_code == 303, ok.text
    assert (await quotas.get_group_quota(app.state.db, group_id=group_id)).quota is not None

    no_reason = await client.post(
        "/admin/quotas/users", data={"user_id": ann, "max_future_reservations": "1"}
    )
    assert no_reason.status_code == 422
    assert 'id="reason-error"' in no_reason.text
    set_ = await client.post(
        "/admin/quotas/users",
        data={"user_id": ann, "max_future_reservations": "1", "reason": "Trial period"},
    )
    assert set_.status_code == 303, set_.text
    listed = await client.get("/admin/quotas")
    assert "Trial period" in listed.text
    unknown = await client.post("/admin/quotas/users", data={"user_id": "nobody", "reason": "x"})
    assert unknown.status_code == 404
    removed = await client.post(f"/admin/quotas/users/{ann}/delete", data={})
    assert removed.status_code == 303
    assert "No user has an override." in (await client.get("/admin/quotas")).text


async def test_plain_users_are_turned_away_from_the_admin_pages(
    client: httpx.AsyncClient, make_user: UserFactory, page_login: PageLogin, make_room: RoomFactory
) -> None:
    await page_login(await make_user())
    room = await make_room()
    assert (await client.get(f"/admin/rooms/{room}/policy")).status_code == 403
    assert (await client.get("/admin/quotas")).status_code == 403


async def test_the_booking_page_says_which_rule_refused_in_both_languages(
    app: Any,
    client: httpx.AsyncClient,
    make_user: UserFactory,
    page_login: PageLogin,
    make_room: RoomFactory,
    tomorrow: date,
) -> None:
    room = await make_room()
    await service.set_policy(
        app.state.db,
        settings=app.state.settings,
        room_id=room,
        values=service.PolicyValues(max_minutes=120),
        actor_id="boss",
        now=app.state.clock(),
    )
    await page_login(await make_user())
    form = {"date": tomorrow.isoformat(), "start_time": "10:00", "end_time": "12:30"}
    english = await client.post(f"/rooms/{room}/reservations", data=form)
    assert english.status_code == 422
    assert "This room can be booked for at most 2 hours." in _text(english.text)
    japanese = await client.post(f"/rooms/{room}/reservations", data=form, headers=JA)
    assert "この会議室は最長 2 時間まで予約できます。" in _text(japanese.text)
