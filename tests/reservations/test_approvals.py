"""Rooms that require approval, on PostgreSQL and SQLite: a user's booking waits PENDING
and holds its slot, admins' and managers' own bookings are ACTIVE; managers and admins
list and decide (403 for others, 409 once decided, 422 without a reason); a rejection
frees the slot; every decision is audited and recorded for the owner's mail; the reminder
job reminds once per period."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, select, update
from sqlalchemy.dialects import sqlite

import mrs.app  # noqa: F401 - every model's table, for the plan test
from mrs.accounts.models import Role, User
from mrs.audit.models import AuditEntry
from mrs.calendars import invitations
from mrs.clock import FixedClock
from mrs.db.base import Base
from mrs.db.engine import Database
from mrs.notifications.models import OutboxMail
from mrs.reservations import approvals, statements
from mrs.reservations.errors import DecisionReasonRequired
from mrs.reservations.models import Reservation, ReservationChange
from tests.conftest import LoginFactory, RoomFactory, UserFactory

pytestmark = pytest.mark.both_databases

Headers = dict[str, str]


async def _approval_room(
    client: httpx.AsyncClient, make_room: RoomFactory, admin_headers: Headers
) -> int:
    room = await make_room()
    put = await client.put(
        f"/api/admin/rooms/{room}/policy", json={"approval_required": True}, headers=admin_headers
    )
    assert put.status_code == 200, put.text
    return room


async def _book(
    client: httpx.AsyncClient,
    room: int,
    headers: Headers,
    day: date,
    start: str = "10:00",
    end: str = "11:00",
    extra: Headers | None = None,
) -> httpx.Response:
    return await client.post(
        f"/api/rooms/{room}/reservations",
        json={"date": day.isoformat(), "start_time": start, "end_time": end},
        headers={**headers, **(extra or {})},
    )


async def _status(db: Database, reservation_id: int) -> str:
    async with db.transaction() as session:
        return str(
            await session.scalar(
                select(Reservation.status).where(Reservation.reservation_id == reservation_id)
            )
        )


def _decide_url(reservation_id: int, verb: str) -> str:
    return f"/api/admin/pending-reservations/{reservation_id}/{verb}"


async def test_a_users_booking_is_pending_and_holds_its_slot(
    client: httpx.AsyncClient,
    admin_headers: Headers,
    make_user: UserFactory,
    login: LoginFactory,
    make_room: RoomFactory,
    tomorrow: date,
) -> None:
    room = await _approval_room(client, make_room, admin_headers)
    user = await login(await make_user())
    other = await login(await make_user())
    booked = await _book(client, room, user, tomorrow)
    assert booked.status_code == 201, booked.text
    assert booked.json()["status"] == "PENDING"
    # With an Idempotency-Key as well (the other door of single booking).
    keyed = await _book(client, room, user, tomorrow, "12:00", "13:00", {"Idempotency-Key": "k1"})
    assert keyed.status_code == 201, keyed.text
    assert keyed.json()["status"] == "PENDING"
    # Pending holds the slot: another booking of an overlapping time is refused.
    clash = await _book(client, room, other, tomorrow, "10:30", "11:30")
    assert clash.status_code == 409, clash.text
    assert clash.json()["error"]["code"] == "reservation_conflict"
    # ... and so does an admin's, and the day timeline shows the time taken.
    clash = await _book(client, room, admin_headers, tomorrow, "10:00", "10:30")
    assert clash.status_code == 409, clash.text
    # The free-room search does not offer the room at that time, but does at another.
    params = {"date": tomorrow.isoformat(), "start_time": "10:00", "end_time": "11:00"}
    search = await client.get("/api/rooms/available", params=params, headers=user)
    assert search.status_code == 200, search.text
    assert room not in [each["room_id"] for each in search.json()]
    params |= {"start_time": "16:00", "end_time": "17:00"}
    search = await client.get("/api/rooms/available", params=params, headers=user)
    assert room in [each["room_id"] for each in search.json()]


async def test_admins_and_managers_book_active_and_others_elsewhere_too(
    client: httpx.AsyncClient,
    admin_headers: Headers,
    make_user: UserFactory,
    login: LoginFactory,
    make_room: RoomFactory,
    tomorrow: date,
) -> None:
    room = await _approval_room(client, make_room, admin_headers)
    plain_room = await make_room()
    manager = await make_user()
    put = await client.put(
        f"/api/admin/rooms/{room}/managers", json={"user_ids": [manager]}, headers=admin_headers
    )
    assert put.status_code == 200, put.text
    assert put.json() == {"room_id": room, "user_ids": [manager]}
    manager_headers = await login(manager)
    mine = await _book(client, room, manager_headers, tomorrow, "09:00", "10:00")
    assert mine.json()["status"] == "ACTIVE", mine.text
    admins = await _book(client, room, admin_headers, tomorrow, "10:00", "11:00")
    assert admins.json()["status"] == "ACTIVE", admins.text
    user = await login(await make_user())
    elsewhere = await _book(client, plain_room, user, tomorrow)
    assert elsewhere.json()["status"] == "ACTIVE", elsewhere.text


async def test_a_series_in_an_approval_room_is_pending(
    client: httpx.AsyncClient,
    admin_headers: Headers,
    make_user: UserFactory,
    login: LoginFactory,
    make_room: RoomFactory,
    tomorrow: date,
) -> None:
    room = await _approval_room(client, make_room, admin_headers)
    user = await login(await make_user())
    made = await client.post(
        f"/api/rooms/{room}/series",
        json={
            "start_date": tomorrow.isoformat(),
            "start_time": "14:00",
            "end_time": "15:00",
            "rule": "FREQ=DAILY;COUNT=3",
        },
        headers=user,
    )
    assert made.status_code == 201, made.text
    statuses = [each["status"] for each in made.json()["occurrences"]]
    assert statuses == ["PENDING"] * 3


async def test_managers_see_their_rooms_and_decide_others_are_refused(
    client: httpx.AsyncClient,
    admin_headers: Headers,
    make_user: UserFactory,
    login: LoginFactory,
    make_room: RoomFactory,
    tomorrow: date,
    db: Database,
) -> None:
    room = await _approval_room(client, make_room, admin_headers)
    other_room = await _approval_room(client, make_room, admin_headers)
    manager = await make_user()
    await client.put(
        f"/api/admin/rooms/{room}/managers", json={"user_ids": [manager]}, headers=admin_headers
    )
    manager_headers = await login(manager)
    owner = await make_user()
    owner_headers = await login(owner)
    first = (await _book(client, room, owner_headers, tomorrow)).json()["reservation_id"]
    second = (await _book(client, other_room, owner_headers, tomorrow)).json()["reservation_id"]

    # A plain user is no approver.
    refused = await client.get("/api/admin/pending-reservations", headers=owner_headers)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "not_an_approver"
    # The manager sees their room's booking only; the admin sees both, oldest first.
    listed = await client.get("/api/admin/pending-reservations", headers=manager_headers)
    assert [each["reservation_id"] for each in listed.json()["items"]] == [first]
    everything = await client.get("/api/admin/pending-reservations", headers=admin_headers)
    assert [each["reservation_id"] for each in everything.json()["items"]] == [first, second]
    assert everything.json()["total"] == 2
    paged = await client.get(
        "/api/admin/pending-reservations", params={"limit": 1, "offset": 1}, headers=admin_headers
    )
    assert [each["reservation_id"] for each in paged.json()["items"]] == [second]

    # Not the manager of the other room: 403, nothing changes.
    out_of_scope = await client.post(_decide_url(second, "approve"), headers=manager_headers)
    assert out_of_scope.status_code == 403, out_of_scope.text
    assert await _status(db, second) == "PENDING"
    # The owner cannot approve their own booking.
    own = await client.post(_decide_url(first, "approve"), headers=owner_headers)
    assert own.status_code == 403

    approved = await client.post(_decide_url(first, "approve"), headers=manager_headers)
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "ACTIVE"
    assert approved.json()["decided_by"] == manager
    assert await _status(db, first) == "ACTIVE"
    again = await client.post(
        _decide_url(first, "reject"), json={"reason": "late"}, headers=manager_headers
    )
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "reservation_not_pending"
    missing = await client.post(_decide_url(999_999, "approve"), headers=admin_headers)
    assert missing.status_code == 404


async def test_reject_needs_a_reason_and_frees_the_slot(
    client: httpx.AsyncClient,
    admin_headers: Headers,
    make_user: UserFactory,
    login: LoginFactory,
    make_room: RoomFactory,
    tomorrow: date,
    db: Database,
) -> None:
    room = await _approval_room(client, make_room, admin_headers)
    owner = await make_user()
    owner_headers = await login(owner)
    booked = (await _book(client, room, owner_headers, tomorrow)).json()["reservation_id"]
    for body in ({}, {"reason": ""}, {"reason": "   "}, {"reason": "x" * 501}):
        answer = await client.post(_decide_url(booked, "reject"), json=body, headers=admin_headers)
        assert answer.status_code == 422, (body, answer.text)
    ja = await client.post(
        _decide_url(booked, "reject"),
        json={"reason": "  "},
        headers={**admin_headers, "Accept-Language": "ja"},
    )
    assert ja.status_code == 422
    assert ja.json()["error"]["code"] == "reason_required"
    assert "理由" in ja.json()["error"]["message"]
    assert await _status(db, booked) == "PENDING"

    rejected = await client.post(
        _decide_url(booked, "reject"), json={"reason": "Board meeting"}, headers=admin_headers
    )
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["status"] == "REJECTED"
    async with db.transaction() as session:
        row = (
            await session.execute(select(Reservation).where(Reservation.reservation_id == booked))
        ).scalar_one()
        assert row.decision_reason == "Board meeting"
        assert row.decided_at is not None
        assert row.version == 2
    # The slot is free again: another user's booking succeeds (pending in its turn).
    other = await login(await make_user())
    again = await _book(client, room, other, tomorrow)
    assert again.status_code == 201, again.text
    # The owner can no longer edit or cancel it.
    cancel = await client.delete(f"/api/reservations/{booked}", headers=owner_headers)
    assert cancel.status_code in (404, 409, 422), cancel.text


async def test_owner_moves_and_cancels_a_pending_booking(
    client: httpx.AsyncClient,
    admin_headers: Headers,
    make_user: UserFactory,
    login: LoginFactory,
    make_room: RoomFactory,
    tomorrow: date,
    db: Database,
) -> None:
    room = await _approval_room(client, make_room, admin_headers)
    owner_headers = await login(await make_user())
    booked = (await _book(client, room, owner_headers, tomorrow)).json()["reservation_id"]
    moved = await client.patch(
        f"/api/reservations/{booked}",
        json={"start_time": "15:00", "end_time": "16:00"},
        headers=owner_headers,
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["status"] == "PENDING"
    assert moved.json()["start_time"] == "15:00"
    cancelled = await client.delete(f"/api/reservations/{booked}", headers=owner_headers)
    assert cancelled.status_code in (200, 204), cancelled.text
    assert await _status(db, booked) == "CANCELLED"


async def test_decisions_are_audited_and_recorded_for_the_owners_mail(
    client: httpx.AsyncClient,
    admin_headers: Headers,
    make_user: UserFactory,
    login: LoginFactory,
    make_room: RoomFactory,
    tomorrow: date,
    db: Database,
) -> None:
    room = await _approval_room(client, make_room, admin_headers)
    owner_headers = await login(await make_user())
    one = (await _book(client, room, owner_headers, tomorrow, "09:00", "10:00")).json()
    two = (await _book(client, room, owner_headers, tomorrow, "10:00", "11:00")).json()
    await client.post(_decide_url(one["reservation_id"], "approve"), headers=admin_headers)
    await client.post(
        _decide_url(two["reservation_id"], "reject"), json={"reason": "No"}, headers=admin_headers
    )
    async with db.transaction() as session:
        audited = (
            await session.execute(
                select(AuditEntry.action, AuditEntry.subject_id)
                .where(AuditEntry.action.like("reservation.%ed"))
                .order_by(AuditEntry.audit_id)
            )
        ).all()
        kinds = (
            await session.execute(
                select(ReservationChange.kind, ReservationChange.reason)
                .where(
                    ReservationChange.reservation_id.in_(
                        [one["reservation_id"], two["reservation_id"]]
                    ),
                    ReservationChange.kind != "created",
                )
                .order_by(ReservationChange.change_id)
            )
        ).all()
    assert [(a, str(s)) for a, s in audited] == [
        ("reservation.approved", str(one["reservation_id"])),
        ("reservation.rejected", str(two["reservation_id"])),
    ]
    assert [tuple(each) for each in kinds] == [("changed", None), ("cancelled", "No")]


async def test_only_admins_set_managers_and_unknown_users_are_refused(
    client: httpx.AsyncClient,
    admin_headers: Headers,
    user_headers: Headers,
    make_room: RoomFactory,
) -> None:
    room = await make_room()
    url = f"/api/admin/rooms/{room}/managers"
    assert (await client.get(url, headers=user_headers)).status_code == 403
    assert (await client.put(url, json={"user_ids": []}, headers=user_headers)).status_code == 403
    unknown = await client.put(url, json={"user_ids": ["nobody"]}, headers=admin_headers)
    assert unknown.status_code == 422
    assert unknown.json()["error"]["code"] == "unknown_managers"
    missing = await client.get("/api/admin/rooms/999999/managers", headers=admin_headers)
    assert missing.status_code == 404
    assert (await client.get(url, headers=admin_headers)).json()["user_ids"] == []


async def test_the_reminder_job_reminds_managers_once_per_period(
    app: Any,
    client: httpx.AsyncClient,
    admin_headers: Headers,
    make_user: UserFactory,
    login: LoginFactory,
    make_room: RoomFactory,
    tomorrow: date,
    clock: FixedClock,
    db: Database,
) -> None:
    room = await _approval_room(client, make_room, admin_headers)
    unmanaged = await _approval_room(client, make_room, admin_headers)
    manager = await make_user(email="manager@example.com")
    await client.put(
        f"/api/admin/rooms/{room}/managers", json={"user_ids": [manager]}, headers=admin_headers
    )
    await make_user(role=Role.ADMIN, email="boss@example.com")
    owner_headers = await login(await make_user())
    later_day = tomorrow + timedelta(days=5)  # still to come at the third run
    await _book(client, room, owner_headers, later_day)
    await _book(client, unmanaged, owner_headers, later_day)
    settings = app.state.db.settings
    now = clock()

    async def recipients() -> list[str]:
        async with db.transaction() as session:
            rows = await session.scalars(
                select(OutboxMail.recipient).where(OutboxMail.subject.like("%approval%"))
            )
            return sorted(rows)

    # Not yet waited a whole period: nothing.
    assert await approvals.remind_pending(db, settings=settings, now=now) == 0
    later = now + timedelta(minutes=settings.approval_remind_after_minutes)
    assert await approvals.remind_pending(db, settings=settings, now=later) == 2
    sent = await recipients()
    # The manager for their room; the admins (no manager) for the other.
    assert "manager@example.com" in sent
    assert "boss@example.com" in sent
    assert sent.count("manager@example.com") == 1
    # Once per period: a second run right after reminds nobody.
    assert await approvals.remind_pending(db, settings=settings, now=later) == 0
    assert await recipients() == sent
    # A period later, reminded again.
    again = later + timedelta(minutes=settings.approval_remind_after_minutes)
    assert await approvals.remind_pending(db, settings=settings, now=again) == 2


def test_slot_holding_reads_use_the_partial_day_index_on_sqlite(tmp_path: Any) -> None:
    """`status IN ('ACTIVE', 'PENDING')` is spelled as literals, textually the index's
    predicate: SQLite then answers a day's timelines from `ix_reservation_active_day`
    (bound parameters would not match the partial index)."""

    engine = create_engine(f"sqlite:///{tmp_path / 'plan.db'}")
    Base.metadata.create_all(engine)
    compiled = statements.timelines_of_day("sqlite").compile(dialect=sqlite.dialect())
    assert "status IN ('ACTIVE', 'PENDING')" in str(compiled)
    with engine.connect() as connection:
        plan = connection.exec_driver_sql(
            f"EXPLAIN QUERY PLAN {compiled}",
            tuple("2026-12-02" for _ in compiled.positiontup or ()),
        ).all()
    engine.dispose()
    assert any("ix_reservation_active_day" in str(row[-1]) for row in plan), plan


async def test_the_owner_is_mailed_each_decision_in_their_language(
    app: Any,
    client: httpx.AsyncClient,
    admin_headers: Headers,
    make_user: UserFactory,
    login: LoginFactory,
    make_room: RoomFactory,
    tomorrow: date,
    clock: FixedClock,
    db: Database,
) -> None:
    room = await _approval_room(client, make_room, admin_headers)
    owner = await make_user(email="owner@example.com")
    async with db.transaction() as session:
        await session.execute(update(User).where(User.user_id == owner).values(locale="ja"))
    owner_headers = await login(owner)
    one = (await _book(client, room, owner_headers, tomorrow, "09:00", "10:00")).json()
    two = (await _book(client, room, owner_headers, tomorrow, "10:00", "11:00")).json()
    settings = app.state.db.settings
    await invitations.send_pending(db, settings, now=clock())  # the booked mails
    await client.post(_decide_url(one["reservation_id"], "approve"), headers=admin_headers)
    await client.post(
        _decide_url(two["reservation_id"], "reject"),
        json={"reason": "役員会のため"},
        headers=admin_headers,
    )
    await invitations.send_pending(db, settings, now=clock())
    async with db.transaction() as session:
        mails = (
            await session.execute(
                select(
                    OutboxMail.subject,
                    OutboxMail.body,
                    OutboxMail.calendar,
                    OutboxMail.calendar_method,
                )
                .where(OutboxMail.recipient == "owner@example.com")
                .order_by(OutboxMail.mail_id)
            )
        ).all()
    booked, approved, rejected = mails[-4], mails[-2], mails[-1]
    assert "STATUS:TENTATIVE" in (booked.calendar or "")  # pending: tentative
    assert "承認待ち" in booked.body  # and the mail says it still waits
    assert "承認待ち" not in approved.body
    assert approved.subject.startswith("承認されました")
    assert approved.calendar_method == "REQUEST"
    assert "STATUS:CONFIRMED" in (approved.calendar or "")
    assert rejected.subject.startswith("承認されませんでした")
    assert "役員会のため" in rejected.body
    assert rejected.calendar_method == "CANCEL"


def test_the_pure_rules_of_deciding() -> None:
    """Admins decide everywhere, managers in their rooms; a rejection needs a reason."""

    assert approvals.may_decide(is_admin=True, managed_rooms=[], room_id=3)
    assert approvals.may_decide(is_admin=False, managed_rooms=[1, 3], room_id=3)
    assert not approvals.may_decide(is_admin=False, managed_rooms=[1], room_id=3)
    assert approvals.rejection_reason("  Board  ") == "Board"
    for blank in (None, "", "   "):
        with pytest.raises(DecisionReasonRequired):
            approvals.rejection_reason(blank)


async def test_moving_into_or_out_of_an_approval_room_follows_the_target_room(
    client: httpx.AsyncClient,
    admin_headers: Headers,
    make_user: UserFactory,
    login: LoginFactory,
    make_room: RoomFactory,
    tomorrow: date,
    db: Database,
) -> None:
    approval_room = await _approval_room(client, make_room, admin_headers)
    plain_room = await make_room()
    owner_headers = await login(await make_user())
    booked = (await _book(client, plain_room, owner_headers, tomorrow)).json()
    assert booked["status"] == "ACTIVE"
    into = await client.patch(
        f"/api/reservations/{booked['reservation_id']}",
        json={"room_id": approval_room},
        headers=owner_headers,
    )
    assert into.status_code == 200, into.text
    assert into.json()["status"] == "PENDING"
    back = await client.patch(
        f"/api/reservations/{booked['reservation_id']}",
        json={"room_id": plain_room},
        headers=owner_headers,
    )
    assert back.json()["status"] == "ACTIVE", back.text
    async with db.transaction() as session:
        statuses = (
            await session.execute(
                select(AuditEntry.before, AuditEntry.after)
                .where(
                    AuditEntry.action == "reservation.update",
                    AuditEntry.subject_id == str(booked["reservation_id"]),
                )
                .order_by(AuditEntry.audit_id)
            )
        ).all()
    afters = [json.loads(after or "{}").get("status") for _, after in statuses]
    assert afters == ["PENDING", "ACTIVE"]
