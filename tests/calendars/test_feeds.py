"""Calendar feeds over HTTP, on PostgreSQL and SQLite: every feed is read back by two
independent readers (recurring-ical-events over icalendar, and vobject) and its expanded
occurrences compared with the database; tokens open feeds until revoked or replaced;
conditional GETs answer 304 until something changes.

The app's clock is pinned to Monday 2030-01-07 09:00 in Tokyo (tests/conftest.py).
"""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import icalendar
import pytest
import recurring_ical_events
import vobject
from sqlalchemy import insert, or_, select, update

from mrs.accounts.models import User
from mrs.calendars.models import CalendarFeed
from mrs.clock import FixedClock
from mrs.reservations import editing, rules, series
from mrs.reservations import service as reservations_service
from mrs.reservations.models import (
    Reservation,
    ReservationAttendee,
    ReservationStatus,
    Visibility,
)
from tests.conftest import LoginFactory, RoomFactory, UserFactory

pytestmark = pytest.mark.both_databases

MONDAY = date(2030, 1, 7)  # the pinned today
TOKYO = ZoneInfo("Asia/Tokyo")
FAR = date(2031, 1, 1)

Occurrence = tuple[datetime, datetime, str]


async def _token(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    made = await client.post("/api/me/calendar-feed", headers=headers)
    assert made.status_code == 201, made.text
    url = made.json()["url"]
    assert url.startswith("http://testserver/calendar/")
    assert url.endswith(".ics")
    return str(url).removeprefix("http://testserver/calendar/").removesuffix(".ics")


def _expanded(text: str, start: date) -> list[Occurrence]:
    """Occurrences as recurring-ical-events (over icalendar) expands the feed."""
    calendar = icalendar.Calendar.from_ical(text)
    return sorted(
        (
            event["DTSTART"].dt.astimezone(TOKYO),
            event["DTEND"].dt.astimezone(TOKYO),
            str(event["SUMMARY"]),
        )
        for event in recurring_ical_events.of(calendar).between(start, FAR)
    )


def _vobject_expanded(text: str) -> list[Occurrence]:
    """Occurrences as vobject reads them: each master's rule set (EXDATEs applied), the
    instance an override's RECURRENCE-ID names replaced by the override."""
    component = vobject.readOne(text)
    found: dict[tuple[str, datetime], Occurrence] = {}
    overrides = []
    for event in component.vevent_list:
        uid = event.uid.value
        length = event.dtend.value - event.dtstart.value
        summary = event.summary.value
        if hasattr(event, "recurrence_id"):
            overrides.append(event)
        elif hasattr(event, "rrule"):
            for moment in event.getrruleset(addRDate=True):
                start = moment.astimezone(TOKYO)
                found[(uid, start)] = (start, start + length, summary)
        else:
            start = event.dtstart.value.astimezone(TOKYO)
            found[(uid, start)] = (start, start + length, summary)
    for event in overrides:
        found.pop((event.uid.value, event.recurrence_id.value.astimezone(TOKYO)), None)
        start = event.dtstart.value.astimezone(TOKYO)
        found[(event.uid.value, start)] = (
            start,
            event.dtend.value.astimezone(TOKYO),
            event.summary.value,
        )
    return sorted(found.values())


def _at(day: date, minute: int) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=TOKYO) + timedelta(minutes=minute)


async def _database_occurrences(app: Any, *, user_id: str, from_date: date) -> list[Occurrence]:
    """The active meetings the user owns or attends from `from_date`, from the rows."""
    attended = select(ReservationAttendee.reservation_id).where(
        ReservationAttendee.user_id == user_id
    )
    async with app.state.db.snapshot() as session:
        rows = (
            await session.execute(
                select(
                    Reservation.reserved_date,
                    Reservation.start_minute,
                    Reservation.end_minute,
                    Reservation.title,
                ).where(
                    Reservation.status == ReservationStatus.ACTIVE.value,
                    Reservation.reserved_date >= from_date,
                    or_(Reservation.user_id == user_id, Reservation.reservation_id.in_(attended)),
                )
            )
        ).all()
    return sorted(
        (
            _at(row.reserved_date, row.start_minute),
            _at(row.reserved_date, row.end_minute),
            row.title,
        )
        for row in rows
    )


async def _reserve(app: Any, clock: FixedClock, user_id: str, room: int, **fields: Any) -> int:
    db = app.state.db
    answer = await reservations_service.reserve(
        db, settings=db.settings, user_id=user_id, room_id=room, now=clock(), **fields
    )
    return answer.reservation_id


async def _my_week(app: Any, clock: FixedClock, me: str, other: str, room: int) -> dict[str, int]:
    """Meetings of mine, of someone else's I attend, one I don't, a cancelled one, and a
    daily series of five with the second cancelled and the third moved."""
    db = app.state.db
    ids = {
        "planning": await _reserve(
            app, clock, me, room, day=MONDAY + timedelta(days=1), start_minute=600,
            end_minute=660, title="Planning", description="Quarterly plan",
        ),
        "review": await _reserve(
            app, clock, other, room, day=MONDAY + timedelta(days=2), start_minute=780,
            end_minute=840, title="Salary review", description="confidential",
            visibility=Visibility.PRIVATE, attendees=[me],
        ),
        "not_mine": await _reserve(
            app, clock, other, room, day=MONDAY + timedelta(days=1), start_minute=900,
            end_minute=960, title="Not mine",
        ),
        "dropped": await _reserve(
            app, clock, me, room, day=MONDAY + timedelta(days=3), start_minute=600,
            end_minute=660, title="Dropped",
        ),
    }  # fmt: skip
    await editing.cancel(
        db,
        settings=db.settings,
        actor=rules.Actor(me, is_admin=False),
        reservation_id=ids["dropped"],
        now=clock(),
    )
    booked = await series.create(
        db,
        settings=db.settings,
        user_id=me,
        fields=series.SeriesFields(
            room_id=room,
            start_date=MONDAY + timedelta(days=1),
            start_minute=540,
            end_minute=570,
            rule="FREQ=DAILY;COUNT=5",
            title="Stand-up",
        ),
        on_conflict="fail",
        now=clock(),
    )
    actor = rules.Actor(me, is_admin=False)
    await editing.cancel(
        db,
        settings=db.settings,
        actor=actor,
        reservation_id=booked.occurrences[1].reservation_id,
        now=clock(),
    )
    await editing.edit(
        db,
        settings=db.settings,
        actor=actor,
        reservation_id=booked.occurrences[2].reservation_id,
        change=editing.Change(start_minute=960, end_minute=990),
        now=clock(),
    )
    ids["series"] = booked.series_id
    return ids


async def test_my_feed_reads_back_as_the_database_in_two_readers(
    app: Any,
    client: httpx.AsyncClient,
    make_user: UserFactory,
    make_room: RoomFactory,
    login: LoginFactory,
    clock: FixedClock,
) -> None:
    me, other = await make_user(), await make_user()
    room = await make_room(days=7)
    await _my_week(app, clock, me, other, room)
    token = await _token(client, await login(me))

    answer = await client.get(f"/calendar/{token}.ics")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/calendar; charset=utf-8"
    assert answer.headers["cache-control"] == "private, no-cache"
    window_start = MONDAY - timedelta(days=30)
    expected = await _database_occurrences(app, user_id=me, from_date=window_start)
    assert [summary for _, _, summary in expected] == [
        "Stand-up",
        "Planning",
        "Salary review",  # someone else's private meeting, which I attend: all of it
        "Stand-up",
        "Stand-up",  # the third occurrence, moved to the afternoon
        "Stand-up",
    ]
    assert _expanded(answer.text, window_start) == expected
    assert _vobject_expanded(answer.text) == expected
    calendar = icalendar.Calendar.from_ical(answer.text)
    (master,) = [e for e in calendar.walk("VEVENT") if "RRULE" in e]
    assert "EXDATE" in master  # the cancelled occurrence
    assert len([e for e in calendar.walk("VEVENT") if "RECURRENCE-ID" in e]) == 1


async def test_the_feed_starts_the_configured_days_back(
    app: Any,
    client: httpx.AsyncClient,
    make_user: UserFactory,
    make_room: RoomFactory,
    login: LoginFactory,
    clock: FixedClock,
) -> None:
    me = await make_user()
    room = await make_room(days=14)
    for offset, title in ((1, "Early"), (12, "Later")):
        await _reserve(
            app, clock, me, room, day=MONDAY + timedelta(days=offset), start_minute=600,
            end_minute=660, title=title,
        )  # fmt: skip
    token = await _token(client, await login(me))
    first = await client.get(f"/calendar/{token}.ics")
    # 32 days on, the first meeting is 31 days back: older than the 30 days the feed keeps.
    clock.now = clock.now + timedelta(days=32)
    later = await client.get(
        f"/calendar/{token}.ics", headers={"If-None-Match": first.headers["etag"]}
    )
    assert later.status_code == 200  # the window moved: a new ETag
    assert [s for _, _, s in _vobject_expanded(later.text)] == ["Later"]
    assert [s for _, _, s in _vobject_expanded(first.text)] == ["Early", "Later"]


async def test_a_room_feed_shows_others_private_meetings_as_reserved_only(
    app: Any,
    client: httpx.AsyncClient,
    make_user: UserFactory,
    make_room: RoomFactory,
    login: LoginFactory,
    admin_headers: dict[str, str],
    clock: FixedClock,
) -> None:
    alice, bob = await make_user(), await make_user()
    room = await make_room(days=7)
    published = await client.patch(
        f"/api/admin/rooms/{room}", json={"has_feed": True}, headers=admin_headers
    )
    assert published.status_code == 200
    assert published.json()["has_feed"] is True
    day = MONDAY + timedelta(days=1)
    await _reserve(
        app,
        clock,
        alice,
        room,
        day=day,
        start_minute=600,
        end_minute=660,
        title="Salary review",
        description="confidential",
        visibility=Visibility.PRIVATE,
    )
    await _reserve(
        app, clock, alice, room, day=day, start_minute=720, end_minute=780, title="Lunch talk"
    )
    await _reserve(
        app, clock, bob, room, day=day, start_minute=840, end_minute=900,
        title="Bob's secret", visibility=Visibility.PRIVATE,
    )  # fmt: skip
    async with app.state.db.transaction() as session:
        await session.execute(update(User).where(User.user_id == bob).values(locale="ja"))
    made = await client.post("/api/me/calendar-feed", headers=await login(bob))
    (room_url,) = [r["url"] for r in made.json()["room_urls"] if r["room_id"] == room]
    answer = await client.get(room_url.removeprefix("http://testserver"))
    assert answer.status_code == 200

    expected = [
        (_at(day, 600), _at(day, 660), "予約済み"),  # Bob's language
        (_at(day, 720), _at(day, 780), "Lunch talk"),
        (_at(day, 840), _at(day, 900), "Bob's secret"),  # his own: all of it
    ]
    assert _expanded(answer.text, MONDAY) == expected
    assert _vobject_expanded(answer.text) == expected
    hidden = next(
        e
        for e in icalendar.Calendar.from_ical(answer.text).walk("VEVENT")
        if str(e["SUMMARY"]) == "予約済み"
    )
    assert str(hidden["CLASS"]) == "PRIVATE"
    assert "ORGANIZER" not in hidden
    assert "ATTENDEE" not in hidden
    assert str(hidden.get("DESCRIPTION", "")) == ""
    assert "Salary review" not in answer.text
    assert "confidential" not in answer.text


async def test_a_room_feed_exists_only_for_rooms_that_publish_one(
    client: httpx.AsyncClient,
    make_user: UserFactory,
    make_room: RoomFactory,
    login: LoginFactory,
) -> None:
    room = await make_room(days=1)
    token = await _token(client, await login(await make_user()))
    unknown = await client.get(f"/calendar/{'x' * 43}.ics")
    for path in (
        f"/calendar/{token}/rooms/{room}.ics",  # not published
        f"/calendar/{token}/rooms/999999.ics",
        f"/calendar/{token}/rooms/abc.ics",
        f"/calendar/{token}/rooms/{'9' * 30}.ics",
        f"/calendar/{token}/rooms/-1.ics",
    ):
        answer = await client.get(path)
        assert answer.status_code == 404, path
        assert answer.content == unknown.content


async def test_revoked_replaced_unknown_and_malformed_tokens_all_answer_the_same_404(
    app: Any,
    client: httpx.AsyncClient,
    make_user: UserFactory,
    login: LoginFactory,
) -> None:
    me = await make_user()
    headers = await login(me)
    first = await _token(client, headers)
    assert (await client.get(f"/calendar/{first}.ics")).status_code == 200

    second = await _token(client, headers)  # a new link replaces the first
    assert second != first
    assert (await client.get(f"/calendar/{second}.ics")).status_code == 200
    replaced = await client.get(f"/calendar/{first}.ics")
    assert replaced.status_code == 404

    # Only the hash is stored.
    async with app.state.db.snapshot() as session:
        (row,) = (await session.execute(select(CalendarFeed))).scalars().all()
    assert row.token_hash == hashlib.sha256(second.encode()).hexdigest()

    assert (await client.delete("/api/me/calendar-feed", headers=headers)).status_code == 204
    revoked = await client.get(f"/calendar/{second}.ics")
    unknown = await client.get(f"/calendar/{'A' * 43}.ics")
    for answer in (replaced, revoked, unknown):
        assert answer.status_code == 404
        assert answer.content == unknown.content
        assert "etag" not in answer.headers
    assert unknown.json()["error"]["code"] == "feed_not_found"
    for malformed in ("short", "A" * 44, "A" * 42 + "%21", "A" * 42 + ".", "%00" * 5, "é" * 43):
        answer = await client.get(f"/calendar/{malformed}.ics")
        assert answer.status_code == 404, malformed
        assert answer.content == unknown.content


async def test_a_disabled_user_s_token_opens_nothing(
    app: Any, client: httpx.AsyncClient, make_user: UserFactory, login: LoginFactory
) -> None:
    me = await make_user()
    token = await _token(client, await login(me))
    async with app.state.db.transaction() as session:
        await session.execute(update(User).where(User.user_id == me).values(status="DISABLED"))
    assert (await client.get(f"/calendar/{token}.ics")).status_code == 404


async def test_conditional_gets_answer_304_until_something_changes(
    app: Any,
    client: httpx.AsyncClient,
    make_user: UserFactory,
    make_room: RoomFactory,
    login: LoginFactory,
    clock: FixedClock,
) -> None:
    me, other = await make_user(), await make_user()
    room = await make_room(days=7)
    planning = await _reserve(
        app, clock, me, room, day=MONDAY + timedelta(days=1), start_minute=600,
        end_minute=660, title="Planning",
    )  # fmt: skip
    token = await _token(client, await login(me))
    path = f"/calendar/{token}.ics"
    first = await client.get(path)
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert etag.startswith('W/"')

    by_tag = await client.get(path, headers={"If-None-Match": etag})
    assert by_tag.status_code == 304
    assert by_tag.content == b""
    assert by_tag.headers["etag"] == etag
    by_date = await client.get(path, headers={"If-Modified-Since": modified})
    assert by_date.status_code == 304
    earlier = datetime.strptime(modified, "%a, %d %b %Y %H:%M:%S GMT").replace(tzinfo=UTC)
    before = (earlier - timedelta(seconds=1)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert (await client.get(path, headers={"If-Modified-Since": before})).status_code == 200
    # If-None-Match decides when both are sent; garbage dates are ignored.
    other_tag = {"If-None-Match": 'W/"other"', "If-Modified-Since": modified}
    assert (await client.get(path, headers=other_tag)).status_code == 200
    bad_date = await client.get(path, headers={"If-Modified-Since": "yesterday"})
    assert bad_date.status_code == 200

    # An edit a minute later: a new ETag and a later Last-Modified, and the body says it.
    clock.now = clock.now + timedelta(minutes=1)
    await editing.edit(
        app.state.db,
        settings=app.state.db.settings,
        actor=rules.Actor(me, is_admin=False),
        reservation_id=planning,
        change=editing.Change(title="Planning (moved)"),
        now=clock(),
    )
    changed = await client.get(path, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert changed.headers["last-modified"] != modified
    assert "Planning (moved)" in changed.text
    stale = await client.get(path, headers={"If-Modified-Since": modified})
    assert stale.status_code == 200

    # Being invited to someone else's meeting changes my feed too.
    tag = changed.headers["etag"]
    await _reserve(
        app, clock, other, room, day=MONDAY + timedelta(days=2), start_minute=600,
        end_minute=660, title="Invited", attendees=[me],
    )  # fmt: skip
    invited = await client.get(path, headers={"If-None-Match": tag})
    assert invited.status_code == 200
    assert "Invited" in invited.text


async def test_a_feed_of_a_thousand_meetings_is_complete(
    app: Any,
    client: httpx.AsyncClient,
    make_user: UserFactory,
    make_room: RoomFactory,
    login: LoginFactory,
    clock: FixedClock,
) -> None:
    me = await make_user()
    room = await make_room(days=50)
    rows = [
        {
            "room_id": room,
            "reserved_date": MONDAY + timedelta(days=day),
            "start_minute": 480 + 30 * slot,
            "end_minute": 510 + 30 * slot,
            "user_id": me,
            "title": f"Meeting {day}-{slot}",
            "created_at": clock(),
        }
        for day in range(50)
        for slot in range(20)
    ]
    async with app.state.db.transaction() as session:
        await session.execute(insert(Reservation), rows)
    token = await _token(client, await login(me))
    answer = await client.get(f"/calendar/{token}.ics")
    assert answer.status_code == 200
    calendar = icalendar.Calendar.from_ical(answer.text)
    uids = {str(event["UID"]) for event in calendar.walk("VEVENT")}
    assert len(uids) == 1000
    expected = await _database_occurrences(app, user_id=me, from_date=MONDAY)
    assert len(expected) == 1000
    assert _expanded(answer.text, MONDAY) == expected
    assert _vobject_expanded(answer.text) == expected


async def test_my_feed_api_makes_shows_and_revokes_the_link(
    client: httpx.AsyncClient,
    make_user: UserFactory,
    make_room: RoomFactory,
    login: LoginFactory,
    admin_headers: dict[str, str],
) -> None:
    published, hidden = await make_room(days=1), await make_room(days=1)
    await client.patch(
        f"/api/admin/rooms/{published}", json={"has_feed": True}, headers=admin_headers
    )
    headers = await login(await make_user())
    assert (await client.get("/api/me/calendar-feed")).status_code == 401
    assert (await client.post("/api/me/calendar-feed")).status_code == 401
    before = (await client.get("/api/me/calendar-feed", headers=headers)).json()
    assert before["exists"] is False
    assert before["created_at"] is None
    assert [room["room_id"] for room in before["rooms"]] == [published]

    made = (await client.post("/api/me/calendar-feed", headers=headers)).json()
    token = made["url"].removeprefix("http://testserver/calendar/").removesuffix(".ics")
    assert len(token) == 43
    assert [r["url"] for r in made["room_urls"]] == [
        f"http://testserver/calendar/{token}/rooms/{published}.ics"
    ]
    after = (await client.get("/api/me/calendar-feed", headers=headers)).json()
    assert after["exists"] is True
    assert after["created_at"] is not None
    assert token not in str(after)
    assert hidden not in [room["room_id"] for room in after["rooms"]]

    assert (await client.delete("/api/me/calendar-feed", headers=headers)).status_code == 204
    assert (await client.get("/api/me/calendar-feed", headers=headers)).json()["exists"] is False
    # Revoking twice is fine.
    assert (await client.delete("/api/me/calendar-feed", headers=headers)).status_code == 204


async def test_feed_tokens_never_reach_the_logs(
    client: httpx.AsyncClient,
    make_user: UserFactory,
    login: LoginFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    token = await _token(client, await login(await make_user()))
    with caplog.at_level(logging.INFO):
        assert (await client.get(f"/calendar/{token}.ics")).status_code == 200
        assert (await client.get(f"/calendar/{token}/rooms/1.ics")).status_code == 404
        assert (await client.get(f"/calendar/{token}/no/such/path")).status_code == 404
    access = [r for r in caplog.records if r.name == "mrs.access"]
    assert len(access) == 3
    # Every record of the server (the test's own HTTP client logs its URLs: not ours).
    for record in (r for r in caplog.records if not r.name.startswith("httpx")):
        assert token not in record.getMessage()
        assert token not in str(getattr(record, "fields", ""))
    assert {r.fields["path"] for r in access} == {"/calendar/***"}  # type: ignore[attr-defined]
