"""Groups (departments) through the admin API, on PostgreSQL and SQLite: every endpoint,
the edges of its validation, admins only, and member lists replaced all or nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import delete, func, select

from mrs.accounts import groups
from mrs.accounts.models import User, UserGroupMember
from mrs.db.engine import Database
from tests.conftest import UserFactory

pytestmark = pytest.mark.both_databases

Headers = dict[str, str]


async def _create(client: httpx.AsyncClient, headers: Headers, **body: Any) -> httpx.Response:
    return await client.post("/api/admin/groups", json=body, headers=headers)


async def _memberships(db: Database) -> int:
    async with db.snapshot() as session:
        return int(await session.scalar(select(func.count()).select_from(UserGroupMember)) or 0)


async def test_admins_create_list_read_rename_and_delete_groups(
    client: httpx.AsyncClient, admin_headers: Headers
) -> None:
    made = await _create(client, admin_headers, name="  Sales  ", description=" Tokyo office ")
    assert made.status_code == 201, made.text
    body = made.json()
    assert (body["name"], body["description"], body["member_count"], body["member_ids"]) == (
        "Sales",
        "Tokyo office",
        0,
        [],
    )
    group_id = body["group_id"]
    assert (await _create(client, admin_headers, name="accounting")).status_code == 201
    listed = await client.get("/api/admin/groups", headers=admin_headers)
    assert [item["name"] for item in listed.json()] == ["accounting", "Sales"]

    read = await client.get(f"/api/admin/groups/{group_id}", headers=admin_headers)
    assert read.status_code == 200
    assert read.json()["name"] == "Sales"

    renamed = await client.patch(
        f"/api/admin/groups/{group_id}", json={"name": "Sales and marketing"}, headers=admin_headers
    )
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "Sales and marketing"
    assert renamed.json()["description"] == "Tokyo office"
    # Its own name in another case is not a conflict with itself.
    recased = await client.patch(
        f"/api/admin/groups/{group_id}", json={"name": "SALES AND MARKETING"}, headers=admin_headers
    )
    assert recased.status_code == 200

    deleted = await client.delete(f"/api/admin/groups/{group_id}", headers=admin_headers)
    assert deleted.status_code == 204
    gone = await client.get(f"/api/admin/groups/{group_id}", headers=admin_headers)
    assert gone.status_code == 404
    assert gone.json()["error"]["code"] == "group_not_found"
    again = await client.delete(f"/api/admin/groups/{group_id}", headers=admin_headers)
    assert again.status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"name": ""},
        {"name": "   "},
        {"name": "x" * 101},
        {"name": "Ok", "description": "d" * 501},
        {"name": None},
        {"name": "Ok", "extra": 1},
        {"name": "nul\x00"},
        {"name": "Ok", "description": "nul\x00"},
        {},
    ],
)
async def test_bad_group_input_is_422(
    client: httpx.AsyncClient, admin_headers: Headers, body: dict[str, Any]
) -> None:
    response = await _create(client, admin_headers, **body)
    assert response.status_code == 422, response.text
    listed = await client.get("/api/admin/groups", headers=admin_headers)
    assert listed.json() == []


async def test_name_edges_and_duplicates(client: httpx.AsyncClient, admin_headers: Headers) -> None:
    longest = await _create(client, admin_headers, name=" " + "é" * 100 + " ")
    assert longest.status_code == 201
    assert longest.json()["name"] == "é" * 100
    first = await _create(client, admin_headers, name="Straße")
    assert first.status_code == 201
    spaced = await _create(client, admin_headers, name="Sales   team")
    assert spaced.json()["name"] == "Sales team"
    for taken in ("STRASSE", " straße ", "É" * 100, "sales team"):
        duplicate = await _create(client, admin_headers, name=taken)
        assert duplicate.status_code == 409, taken
        assert duplicate.json()["error"]["code"] == "group_name_taken"
    other = await _create(client, admin_headers, name="Legal")
    clash = await client.patch(
        f"/api/admin/groups/{other.json()['group_id']}",
        json={"name": "strasse"},
        headers=admin_headers,
    )
    assert clash.status_code == 409
    for bad in (
        {"name": None},
        {"description": None},
        {"name": ""},
        {"name": "n" * 101},
        {"description": "x\x00"},
    ):
        refused = await client.patch(
            f"/api/admin/groups/{other.json()['group_id']}", json=bad, headers=admin_headers
        )
        assert refused.status_code == 422, bad
    for path in (
        "/api/admin/groups/0",
        "/api/admin/groups/abc",
        "/api/admin/groups/99999999999999999999",
    ):
        assert (await client.get(path, headers=admin_headers)).status_code == 422, path
    missing = await client.patch(
        "/api/admin/groups/424242", json={"name": "X"}, headers=admin_headers
    )
    assert missing.status_code == 404


async def test_member_lists_are_replaced_whole_or_not_at_all(
    client: httpx.AsyncClient, admin_headers: Headers, make_user: UserFactory
) -> None:
    ann, ben, cho = [await make_user(name) for name in ("ann", "ben", "cho")]
    group_id = (await _create(client, admin_headers, name="Design")).json()["group_id"]
    members = f"/api/admin/groups/{group_id}/members"
    put = await client.put(members, json={"user_ids": ["ben", "ANN", "ann"]}, headers=admin_headers)
    assert put.status_code == 200, put.text
    assert put.json()["member_ids"] == [ann, ben]
    assert put.json()["member_count"] == 2

    refused = await client.put(
        members, json={"user_ids": [cho, "nobody", "ghost"]}, headers=admin_headers
    )
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["code"] == "unknown_users"
    assert "ghost, nobody" in error["message"]
    assert error["details"]["unknown"] == ["ghost", "nobody"]
    read = await client.get(f"/api/admin/groups/{group_id}", headers=admin_headers)
    assert read.json()["member_ids"] == [ann, ben]  # unchanged

    replaced = await client.put(members, json={"user_ids": [cho]}, headers=admin_headers)
    assert replaced.json()["member_ids"] == [cho]
    emptied = await client.put(members, json={"user_ids": []}, headers=admin_headers)
    assert emptied.json()["member_ids"] == []
    for bad in (
        {},
        {"user_ids": "ann"},
        {"user_ids": [""]},
        {"user_ids": ["x" * 65]},
        {"user_ids": ["a\x00b"]},
        {"user_ids": ["a b"]},
    ):
        assert (await client.put(members, json=bad, headers=admin_headers)).status_code == 422
    missing = await client.put(
        "/api/admin/groups/424242/members", json={"user_ids": [ann]}, headers=admin_headers
    )
    assert missing.status_code == 404


async def test_users_get_403_and_anonymous_401(
    client: httpx.AsyncClient, admin_headers: Headers, user_headers: Headers
) -> None:
    group_id = (await _create(client, admin_headers, name="Ops")).json()["group_id"]
    calls = [
        ("GET", "/api/admin/groups", None),
        ("POST", "/api/admin/groups", {"name": "Mine"}),
        ("GET", f"/api/admin/groups/{group_id}", None),
        ("PATCH", f"/api/admin/groups/{group_id}", {"name": "Mine"}),
        ("DELETE", f"/api/admin/groups/{group_id}", None),
        ("PUT", f"/api/admin/groups/{group_id}/members", {"user_ids": []}),
    ]
    for method, path, body in calls:
        as_user = await client.request(method, path, json=body, headers=user_headers)
        assert as_user.status_code == 403, (method, path)
        assert (await client.request(method, path, json=body)).status_code == 401
    still = await client.get(f"/api/admin/groups/{group_id}", headers=admin_headers)
    assert still.json()["name"] == "Ops"


async def test_deleting_a_user_or_a_group_removes_memberships_and_admins_see_groups(
    app: Any, client: httpx.AsyncClient, admin_headers: Headers, make_user: UserFactory
) -> None:
    ann, ben = await make_user("ann"), await make_user("ben")
    first = (await _create(client, admin_headers, name="First")).json()["group_id"]
    second = (await _create(client, admin_headers, name="second")).json()["group_id"]
    for group_id in (first, second):
        await client.put(
            f"/api/admin/groups/{group_id}/members",
            json={"user_ids": [ann, ben]},
            headers=admin_headers,
        )
    listed = {
        u["user_id"]: u["groups"]
        for u in (await client.get("/api/admin/users", headers=admin_headers)).json()
    }
    assert listed[ann] == ["First", "second"]
    assert (await client.get("/api/admin/groups", headers=admin_headers)).json()[0][
        "member_count"
    ] == 2

    db: Database = app.state.db
    assert await _memberships(db) == 4
    async with db.transaction() as session:
        await session.execute(delete(User).where(User.user_id == ann))
    assert await _memberships(db) == 2
    assert (await groups.get_group(db, group_id=first)).member_ids == [ben]

    await client.delete(f"/api/admin/groups/{first}", headers=admin_headers)
    assert await _memberships(db) == 1
    assert (await groups.groups_of_users(db, user_ids=[ben])) == {ben: ["second"]}


def test_group_names_are_the_same_regardless_of_case_and_spaces() -> None:
    assert groups.name_key(" Sales ") == groups.name_key("SALES")
    assert groups.name_key("Straße") == groups.name_key("STRASSE")
    assert groups.name_key("Sales  team") == groups.name_key("sales team")
    assert groups.name_key("Sales") != groups.name_key("Sale s")
