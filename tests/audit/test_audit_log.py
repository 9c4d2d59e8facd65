"""The audit log on PostgreSQL and SQLite: what the admin actions record (before/after,
who, request id, client address), nothing when a change fails, the API's filters,
paging and CSV, administrators only, the prune; on PostgreSQL rows cannot be changed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from mrs.accounts.models import Role, UserStatus
from mrs.audit import service as audit
from mrs.audit.models import AuditEntry
from mrs.cli import app as cli
from mrs.clock import FixedClock, system_clock
from mrs.db.engine import Database, make_sync_engine, sync_transaction
from mrs.settings import Settings
from tests.conftest import LoginFactory, UserFactory

pytestmark = pytest.mark.both_databases

Headers = dict[str, str]


async def _entries(
    client: httpx.AsyncClient, headers: Headers, **params: Any
) -> list[dict[str, Any]]:
    response = await client.get("/api/admin/audit", params=params, headers=headers)
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()["entries"]
    return entries


async def _count(db: Database) -> int:
    async with db.snapshot() as session:
        return int(await session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


@pytest.fixture
async def admin(make_user: UserFactory) -> str:
    return await make_user("boss", role=Role.ADMIN)


@pytest.fixture
async def headers(admin: str, login: LoginFactory) -> Headers:
    return await login(admin)


async def test_group_changes_are_recorded_with_who_before_after_and_request(
    client: httpx.AsyncClient, headers: Headers, make_user: UserFactory
) -> None:
    member = await make_user("member1")
    made = await client.post(
        "/api/admin/groups", json={"name": "Sales", "description": "Tokyo"}, headers=headers
    )
    assert made.status_code == 201
    group_id = made.json()["group_id"]
    renamed = await client.patch(
        f"/api/admin/groups/{group_id}", json={"name": "Marketing"}, headers=headers
    )
    assert renamed.status_code == 200
    put = await client.put(
        f"/api/admin/groups/{group_id}/members", json={"user_ids": [member]}, headers=headers
    )
    assert put.status_code == 200
    deleted = await client.delete(f"/api/admin/groups/{group_id}", headers=headers)
    assert deleted.status_code == 204

    rows = await _entries(client, headers, action="group.")
    assert [row["action"] for row in rows] == [
        "group.delete",
        "group.members",
        "group.rename",
        "group.create",
    ]
    delete_row, members_row, rename_row, create_row = rows
    assert create_row["after"] == {"name": "Sales", "description": "Tokyo"}
    assert create_row["before"] is None
    assert (rename_row["before"], rename_row["after"]) == ({"name": "Sales"}, {"name": "Marketing"})
    assert (members_row["before"], members_row["after"]) == ({"removed": []}, {"added": [member]})
    assert delete_row["before"] == {
        "name": "Marketing",
        "description": "Tokyo",
        "members": [member],
    }
    assert {row["actor_id"] for row in rows} == {"boss"}
    assert {row["subject_id"] for row in rows} == {str(group_id)}
    # The request id is the one the response carried (one id per request, not a second one).
    assert delete_row["request_id"] == deleted.headers["x-request-id"]
    assert create_row["request_id"] == made.headers["x-request-id"]
    assert delete_row["client_address"] == "127.0.0.1"


async def test_room_admin_changes_are_recorded(
    client: httpx.AsyncClient, headers: Headers, today: Any
) -> None:
    made = await client.post(
        "/api/admin/rooms",
        json={"room_name": "Pine", "capacity": 4, "opening": {"auto_open": False}},
        headers=headers,
    )
    assert made.status_code == 201, made.text
    room_id = made.json()["room_id"]
    changed = await client.patch(
        f"/api/admin/rooms/{room_id}", json={"capacity": 8}, headers=headers
    )
    assert changed.status_code == 200
    span = {"from_date": today.isoformat(), "to_date": (today + timedelta(days=1)).isoformat()}
    opened = await client.post(f"/api/admin/rooms/{room_id}/open", json=span, headers=headers)
    assert opened.status_code == 200
    closed = await client.post(f"/api/admin/rooms/{room_id}/close", json=span, headers=headers)
    assert closed.status_code == 200, closed.text

    rows = await _entries(client, headers, action="room.")
    by_action = {row["action"]: row for row in rows}
    assert set(by_action) == {"room.create", "room.update", "room.open_dates", "room.close_dates"}
    assert by_action["room.create"]["after"]["room_name"] == "Pine"
    assert by_action["room.create"]["after"]["capacity"] == 4
    assert (by_action["room.update"]["before"], by_action["room.update"]["after"]) == (
        {"capacity": 4},
        {"capacity": 8},
    )
    days = [today.isoformat(), (today + timedelta(days=1)).isoformat()]
    assert by_action["room.open_dates"]["after"] == {"opened": days}
    assert by_action["room.close_dates"]["after"] == {"closed": days}
    assert {row["actor_id"] for row in rows} == {"boss"}


async def test_user_admin_actions_are_recorded(
    client: httpx.AsyncClient, headers: Headers, make_user: UserFactory, login: LoginFactory
) -> None:
    await make_user("newbie", status=UserStatus.PENDING)
    await make_user("spammer", status=UserStatus.PENDING)
    worker = await make_user("worker")
    await login(worker)
    for path in (
        "/api/admin/approve-user/newbie",
        "/api/admin/reject-user/spammer",
        f"/api/admin/users/{worker}/end-sessions",
        f"/api/admin/users/{worker}/disable",
        f"/api/admin/users/{worker}/enable",
    ):
        response = await client.post(path, headers=headers)
        assert response.status_code == 200, (path, response.text)
    promoted = await client.put(
        f"/api/admin/users/{worker}/role", json={"role": "ADMIN"}, headers=headers
    )
    assert promoted.status_code == 200

    rows = await _entries(client, headers, action="user.")
    assert [(row["action"], row["subject_id"]) for row in rows] == [
        ("user.role", worker),
        ("user.enable", worker),
        ("user.disable", worker),
        ("user.end_sessions", worker),
        ("user.reject", "spammer"),
        ("user.approve", "newbie"),
    ]
    role, enable, disable, ended, reject, approve = rows
    assert (role["before"], role["after"]) == ({"role": "USER"}, {"role": "ADMIN"})
    assert (approve["before"], approve["after"]) == ({"status": "PENDING"}, {"status": "ACTIVE"})
    assert reject["after"] == {"status": "REJECTED"}
    assert ended["after"] == {"sessions_ended": 1}
    assert disable["after"] == {"status": "DISABLED", "sessions_ended": 0}
    assert (enable["before"], enable["after"]) == ({"status": "DISABLED"}, {"status": "ACTIVE"})
    assert {row["actor_id"] for row in rows} == {"boss"}


async def _record_then_fail(db: Database) -> None:
    async with db.transaction() as session:
        await audit.record(
            session, action="test.fail", subject_type="test", subject_id=1, actor_id=None
        )
        await session.flush()
        raise RuntimeError("the change failed")


async def test_a_failed_change_records_nothing(
    client: httpx.AsyncClient, headers: Headers, admin: str, db: Database
) -> None:
    made = await client.post("/api/admin/groups", json={"name": "Sales"}, headers=headers)
    assert made.status_code == 201
    before = await _count(db)
    group_id = made.json()["group_id"]
    taken = await client.post("/api/admin/groups", json={"name": "SALES"}, headers=headers)
    assert taken.status_code == 409
    unknown = await client.put(
        f"/api/admin/groups/{group_id}/members", json={"user_ids": ["ghost"]}, headers=headers
    )
    assert unknown.status_code == 422
    own = await client.post(f"/api/admin/users/{admin}/disable", headers=headers)
    assert own.status_code in (400, 403, 409, 422)
    assert await _count(db) == before

    # A row recorded in a transaction that then fails is rolled back with it.
    with pytest.raises(RuntimeError, match="the change failed"):
        await _record_then_fail(db)
    assert await _count(db) == before


async def test_filters_paging_and_csv(
    client: httpx.AsyncClient,
    headers: Headers,
    make_user: UserFactory,
    login: LoginFactory,
    clock: FixedClock,
    settings: Settings,
    db: Database,
) -> None:
    other = await make_user("deputy", role=Role.ADMIN)
    other_headers = await login(other)
    for name in ("=cmd|calc", "Alpha", "Beta"):
        made = await client.post("/api/admin/groups", json={"name": name}, headers=headers)
        assert made.status_code == 201
    made = await client.post("/api/admin/groups", json={"name": "Gamma"}, headers=other_headers)
    assert made.status_code == 201

    assert len(await _entries(client, headers, actor_id="deputy")) == 1
    assert len(await _entries(client, headers, actor_id="boss", action="group.create")) == 3
    assert await _entries(client, headers, action="room.") == []
    today = clock().astimezone(settings.tz).date()
    assert len(await _entries(client, headers, **{"from": today.isoformat()})) == 4
    later = (today + timedelta(days=1)).isoformat()
    assert await _entries(client, headers, **{"from": later}) == []
    earlier = (today - timedelta(days=1)).isoformat()
    assert await _entries(client, headers, to=earlier, action="group.") == []

    page = await client.get("/api/admin/audit", params={"limit": 2, "offset": 1}, headers=headers)
    body = page.json()
    assert (body["total"], body["offset"], body["limit"], len(body["entries"])) == (4, 1, 2, 2)
    assert body["entries"][0]["after"] == {"name": "Beta", "description": ""}

    csv = await client.get(
        "/api/admin/audit", params={"format": "csv", "action": "group."}, headers=headers
    )
    assert csv.status_code == 200
    assert csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv.headers["content-disposition"]
    content = csv.content.decode("utf-8")
    assert content.startswith("\ufeffaudit_id,at,actor_id")
    assert len(content.strip().splitlines()) == 5
    # JSON cells start with "{": a name inside one is not a formula.
    assert '"{""description"": """", ""name"": ""=cmd|calc""}"' in content

    # A cell that would start with "=" is written with a quote first.
    async with db.transaction() as session:
        await audit.record(
            session,
            action="test.formula",
            subject_type="test",
            subject_id="=HYPERLINK(1)",
            actor_id=None,
            at=clock(),
        )
    formula = await client.get(
        "/api/admin/audit", params={"format": "csv", "action": "test."}, headers=headers
    )
    assert ",'=HYPERLINK(1)," in formula.content.decode("utf-8")

    for bad in (
        {"actor_id": "x" * 40},
        {"action": "GROUP%"},
        {"from": "2030-01-09", "to": "2030-01-08"},
        {"limit": 0},
        {"offset": -1},
        {"format": "xml"},
    ):
        refused = await client.get("/api/admin/audit", params=bad, headers=headers)
        assert refused.status_code == 422, (bad, refused.text)


async def test_users_may_not_read_the_audit_log(
    client: httpx.AsyncClient, user_headers: Headers
) -> None:
    assert (await client.get("/api/admin/audit", headers=user_headers)).status_code == 403
    assert (await client.get("/api/admin/audit")).status_code == 401


async def test_prune_deletes_old_rows_and_records_itself(
    db: Database, settings: Settings, clock: FixedClock
) -> None:
    now = clock()
    async with db.transaction() as session:
        for age in (800, 731, 10):
            await audit.record(
                session,
                action="test.old",
                subject_type="test",
                subject_id=age,
                actor_id=None,
                at=now - timedelta(days=age),
            )
    removed = await audit.prune(db, older_than_days=730, now=now)
    assert removed == 2
    async with db.snapshot() as session:
        rows = (await session.scalars(select(AuditEntry).order_by(AuditEntry.at))).all()
    assert [(row.action, row.subject_id) for row in rows] == [
        ("test.old", "10"),
        ("audit.prune", "*"),
    ]
    assert '"removed": 2' in (rows[1].after or "")
    assert rows[1].actor_id is None


def test_the_prune_command(settings: Settings) -> None:
    engine = make_sync_engine(settings)
    try:
        with sync_transaction(engine) as session:
            session.add(
                AuditEntry(
                    at=system_clock() - timedelta(days=3000),
                    action="test.ancient",
                    subject_type="test",
                    subject_id="1",
                )
            )
        result = CliRunner().invoke(
            cli,
            ["audit", "prune", "--older-than-days", "2000"],
            env={
                "MRS_DATABASE_URL": settings.database_url,
                "MRS_DATA_DIR": str(settings.data_dir),
            },
        )
        assert result.exit_code == 0, result.output
        assert "1 rows older than 2000 days deleted" in result.output
        with sync_transaction(engine) as session:
            actions = list(session.scalars(select(AuditEntry.action)).all())
    finally:
        engine.dispose()
    assert actions == ["audit.prune"]
