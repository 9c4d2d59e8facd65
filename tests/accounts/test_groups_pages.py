"""The groups page round trip as a browser drives it (forms with CSRF, no JavaScript), in
English and Japanese, on PostgreSQL and SQLite: add, rename, edit members a page at a
time, delete after confirming; plain users are turned away."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from mrs.accounts import groups
from mrs.accounts.models import Role, UserStatus
from mrs.web.pages.admin_groups import MEMBERS_PAGE_SIZE
from tests.conftest import PageLogin, UserFactory, browser_like_client

pytestmark = pytest.mark.both_databases

JA = {"accept-language": "ja"}


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with browser_like_client(app) as http:
        yield http


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _checked(html: str) -> list[str]:
    return re.findall(r'name="member" value="([^"]+)" checked', html)


def _offered(html: str) -> list[str]:
    return re.findall(r'name="member" value="([^"]+)"', html)


async def _admin(client: httpx.AsyncClient, make_user: UserFactory, login: PageLogin) -> str:
    admin = await make_user("boss", role=Role.ADMIN)
    await login(admin)
    return admin


async def test_an_admin_adds_renames_fills_and_deletes_a_group(
    app: Any, client: httpx.AsyncClient, make_user: UserFactory, page_login: PageLogin
) -> None:
    await _admin(client, make_user, page_login)
    ann, ben = await make_user("ann"), await make_user("ben")
    await make_user("gone", status=UserStatus.DISABLED)  # offered only when a member

    empty = await client.get("/admin/groups")
    assert empty.status_code == 200
    assert "There are no groups yet." in empty.text
    assert 'href="/admin/groups"' in empty.text  # the nav item

    added = await client.post("/admin/groups", data={"name": " Sales ", "description": "2F"})
    assert added.status_code == 303, added.text
    location = added.headers["location"]
    group_id = int(location.split("/")[3])
    assert location.endswith("/members?done=group_added")

    members = await client.get(location)
    assert "The group was added." in members.text
    assert _offered(members.text) == [ann, ben, "boss"]
    assert _checked(members.text) == []
    saved = await client.post(
        f"/admin/groups/{group_id}/members?q=&page=1",
        data={"shown": f"{ann} {ben} boss", "member": [ann, ben]},
    )
    assert saved.status_code == 303, saved.text
    assert (await groups.get_group(app.state.db, group_id=group_id)).member_ids == [ann, ben]
    again = await client.get(saved.headers["location"])
    assert "The members were saved." in again.text
    assert _checked(again.text) == [ann, ben]

    listed = await client.get("/admin/groups")
    assert "Sales" in listed.text
    assert re.search(r"<td>2F</td>\s*<td>2</td>", listed.text)

    duplicate = await client.post("/admin/groups", data={"name": "SALES", "description": ""})
    assert duplicate.status_code == 409
    assert "A group named SALES already exists." in _text(duplicate.text)
    blank = await client.post("/admin/groups", data={"name": "  ", "description": ""})
    assert blank.status_code == 422
    assert 'aria-invalid="true"' in blank.text

    renamed = await client.post(
        f"/admin/groups/{group_id}", data={"name": "Sales team", "description": "3F"}
    )
    assert renamed.status_code == 303
    assert renamed.headers["location"] == "/admin/groups?done=group_saved"
    detail = await groups.get_group(app.state.db, group_id=group_id)
    assert (detail.group.name, detail.group.description) == ("Sales team", "3F")

    confirm = await client.get(f"/admin/groups/{group_id}/delete")
    assert "Its 2 member(s) leave the group" in confirm.text
    deleted = await client.post(f"/admin/groups/{group_id}/delete")
    assert deleted.status_code == 303
    assert (await groups.list_groups(app.state.db)) == []
    assert (await client.get(f"/admin/groups/{group_id}")).status_code == 404


async def test_saving_one_page_of_members_keeps_the_others_and_unknown_ids_change_nothing(
    app: Any, client: httpx.AsyncClient, make_user: UserFactory, page_login: PageLogin
) -> None:
    await _admin(client, make_user, page_login)
    people = [await make_user(f"p{index:02d}") for index in range(MEMBERS_PAGE_SIZE + 5)]
    gone = await make_user("zz-gone", status=UserStatus.DISABLED)
    group = await groups.create_group(app.state.db, name="Big", description="", now=_now(app))
    await groups.set_members(app.state.db, group_id=group.group_id, user_ids=[people[0], gone])
    base = f"/admin/groups/{group.group_id}/members"

    second = await client.get(f"{base}?page=2")
    assert second.status_code == 200
    offered = _offered(second.text)
    # Page 2 of active users plus the member who cannot log in (boss and 30 p-users).
    assert offered[-1] == gone
    assert _checked(second.text) == [gone]
    assert "cannot log in" in second.text
    saved = await client.post(
        f"{base}?q=&page=2", data={"shown": " ".join(offered), "member": [offered[0]]}
    )
    assert saved.status_code == 303
    # The member on page 1 stays; the disabled one was unticked and left.
    assert (await groups.get_group(app.state.db, group_id=group.group_id)).member_ids == sorted(
        [people[0], offered[0]]
    )

    found = await client.get(f"{base}?q=p03")
    assert _offered(found.text) == [people[3]]
    refused = await client.post(
        f"{base}?q=p03&page=1", data={"shown": people[3], "member": ["ghost"]}
    )
    assert refused.status_code == 422
    assert "These users do not exist: ghost." in _text(refused.text)
    too_many = await client.post(f"{base}?page=1", data={"shown": " ".join(people), "member": []})
    assert too_many.status_code == 422
    assert (await groups.get_group(app.state.db, group_id=group.group_id)).member_ids == sorted(
        [people[0], offered[0]]
    )


async def test_the_groups_pages_in_japanese_and_for_plain_users(
    app: Any, client: httpx.AsyncClient, make_user: UserFactory, page_login: PageLogin
) -> None:
    await _admin(client, make_user, page_login)
    group = await groups.create_group(app.state.db, name="営業部", description="", now=_now(app))
    japanese = await client.get("/admin/groups", headers=JA)
    assert "すべてのグループ" in japanese.text
    assert "営業部" in japanese.text
    members = await client.get(f"/admin/groups/{group.group_id}/members", headers=JA)
    assert "営業部 のメンバー" in members.text
    assert "メンバーを保存" in members.text

    client.cookies.clear()
    await page_login(await make_user("plain"))
    for path in ("/admin/groups", f"/admin/groups/{group.group_id}/members"):
        refused = await client.get(path)
        assert refused.status_code == 403, path
    posted = await client.post(f"/admin/groups/{group.group_id}/delete")
    assert posted.status_code == 403
    assert len(await groups.list_groups(app.state.db)) == 1
    assert 'href="/admin/groups"' not in (await client.get("/rooms")).text


def _now(app: Any) -> Any:
    return app.state.clock()
