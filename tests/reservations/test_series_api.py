"""Recurring series through the API, on PostgreSQL and SQLite: booked all or nothing (or
skipping what is taken), previewed, read, changed for all or from a date on, cancelled;
occurrences changed on their own are exceptions that series edits never touch."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from mrs.accounts.models import Role
from mrs.clock import FixedClock
from mrs.reservations import closing
from mrs.rooms import service as rooms_service
from tests.conftest import LoginFactory, RoomFactory, UserFactory

pytestmark = pytest.mark.both_databases

# The pinned today (tests/conftest.py) is Monday 2030-01-07: Tuesdays follow.
TUESDAYS = [date(2030, 1, 8) + timedelta(weeks=week) for week in range(6)]


@pytest.fixture
async def people(make_user: UserFactory, login: LoginFactory) -> dict[str, dict[str, str]]:
    """The owner, an attendee, someone else and an administrator: their headers."""
    return {
        "owner": await login(await make_user("owner")),
        "guest": await login(await make_user("guest")),
        "other": await login(await make_user("other")),
        "admin": await login(await make_user("admin", role=Role.ADMIN)),
    }


def _series(count: int = 4, **fields: Any) -> dict[str, Any]:
    return {
        "title": "Weekly sync",
        "start_date": TUESDAYS[0].isoformat(),
        "start_time": "10:00",
        "end_time": "11:00",
        "rule": f"FREQ=WEEKLY;BYDAY=TU;COUNT={count}",
        **fields,
    }


async def _create(
    client: httpx.AsyncClient, room: int, headers: dict[str, str], body: dict[str, Any]
) -> httpx.Response:
    return await client.post(f"/api/rooms/{room}/series", json=body, headers=headers)


async def _book(
    client: httpx.AsyncClient, room: int, headers: dict[str, str], day: date, start: str, end: str
) -> int:
    response = await client.post(
        f"/api/rooms/{room}/reservations",
        json={"date": day.isoformat(), "start_time": start, "end_time": end},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return int(response.json()["reservation_id"])


async def _room_reservations(
    client: httpx.AsyncClient, room: int, headers: dict[str, str]
) -> list[dict[str, Any]]:
    response = await client.get(
        f"/api/rooms/{room}/reservations",
        params={"from": TUESDAYS[0].isoformat(), "to": TUESDAYS[4].isoformat()},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    return list(response.json())


async def test_a_weekly_series_books_every_date_as_ordinary_reservations(
    client: httpx.AsyncClient, people: dict[str, dict[str, str]], make_room: RoomFactory
) -> None:
    room = await make_room(days=60)
    response = await _create(client, room, people["owner"], _series(attendees=["guest"]))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["rule"] == "FREQ=WEEKLY;BYDAY=TU;COUNT=4"
    assert body["skipped"] == []
    assert [each["date"] for each in body["occurrences"]] == [
        day.isoformat() for day in TUESDAYS[:4]
    ]
    for each in body["occurrences"]:
        assert each["series_id"] == body["series_id"]
        assert each["is_exception"] is False
        assert each["title"] == "Weekly sync"
        assert [person["user_id"] for person in each["attendees"]] == ["guest"]
    # Every read of reservations shows the series marker.
    day = await _room_reservations(client, room, people["other"])
    assert {each["series_id"] for each in day} == {body["series_id"]}
    timeline = await client.get(
        "/api/timeline", params={"date": TUESDAYS[0].isoformat()}, headers=people["other"]
    )
    [shown] = [each for each in timeline.json()["rooms"] if each["room_id"] == room]
    assert [(each["series_id"], each["is_exception"]) for each in shown["reservations"]] == [
        (body["series_id"], False)
    ]
    mine = (await client.get("/api/reservations/mine", headers=people["guest"])).json()
    assert len(mine) == 4
    assert all(each["series_id"] == body["series_id"] for each in mine)


async def test_fail_refuses_the_whole_series_naming_every_date_that_cannot_be_booked(
    app: Any,
    client: httpx.AsyncClient,
    people: dict[str, dict[str, str]],
    make_room: RoomFactory,
    clock: FixedClock,
) -> None:
    room = await make_room(days=60)
    in_the_way = await _book(client, room, people["other"], TUESDAYS[1], "10:30", "11:30")
    await closing.add_closure_day(
        app.state.db, day=TUESDAYS[2], label="Holiday", created_by=None, now=clock()
    )
    response = await _create(client, room, people["owner"], _series(on_conflict="fail"))
    assert response.status_code == 409, response.text
    error = response.json()
    assert error["error"]["code"] == "series_conflict"
    assert error["error"]["details"]["dates"] == [
        {
            "date": TUESDAYS[1].isoformat(),
            "reason": "reservation_conflict",
            "reservation_id": in_the_way,
        },
        {"date": TUESDAYS[2].isoformat(), "reason": "room_not_reservable"},
    ]
    # Nothing written: only the booking that was there.
    assert [
        each["reservation_id"] for each in await _room_reservations(client, room, people["owner"])
    ] == [in_the_way]


async def test_skip_books_the_free_dates_and_lists_the_skipped_ones(
    client: httpx.AsyncClient, people: dict[str, dict[str, str]], make_room: RoomFactory
) -> None:
    room = await make_room(days=60)
    in_the_way = await _book(client, room, people["other"], TUESDAYS[3], "09:00", "10:30")
    response = await _create(client, room, people["owner"], _series(on_conflict="skip"))
    assert response.status_code == 201, response.text
    body = response.json()
    assert [each["date"] for each in body["occurrences"]] == [
        day.isoformat() for day in TUESDAYS[:3]
    ]
    assert body["skipped"] == [
        {
            "date": TUESDAYS[3].isoformat(),
            "reason": "reservation_conflict",
            "reservation_id": in_the_way,
        }
    ]


async def test_skipping_every_date_books_no_empty_series(
    client: httpx.AsyncClient, people: dict[str, dict[str, str]], make_room: RoomFactory
) -> None:
    room = await make_room(days=60)
    for day in TUESDAYS[:4]:
        await _book(client, room, people["other"], day, "09:00", "12:00")
    response = await _create(client, room, people["owner"], _series(on_conflict="skip"))
    assert response.status_code == 409, response.text
    assert len(response.json()["error"]["details"]["dates"]) == 4
    mine = await client.get("/api/reservations/mine", headers=people["owner"])
    assert mine.json() == []


async def test_a_date_outside_the_rooms_opening_is_unbookable_per_occurrence(
    app: Any,
    client: httpx.AsyncClient,
    people: dict[str, dict[str, str]],
    make_room: RoomFactory,
) -> None:
    # Open for two weeks only: the third and fourth Tuesdays are not reservable; and
    # bookable from 08:00 to 20:00.
    room = await make_room(days=14)
    await rooms_service.update_room(
        app.state.db, room_id=room, changes={"opening": {"open_minute": 480, "close_minute": 1200}}
    )
    preview = await client.post(
        f"/api/rooms/{room}/series/preview", json=_series(), headers=people["owner"]
    )
    assert preview.status_code == 200, preview.text
    assert [(each["state"], each["reason"]) for each in preview.json()["dates"]] == [
        ("free", None),
        ("free", None),
        ("unbookable", "room_not_reservable"),
        ("unbookable", "room_not_reservable"),
    ]
    # The preview wrote nothing.
    assert await _room_reservations(client, room, people["owner"]) == []
    late = await _create(
        client, room, people["owner"], _series(start_time="20:00", end_time="23:00")
    )
    assert late.status_code == 409
    reasons = {each["reason"] for each in late.json()["error"]["details"]["dates"]}
    assert reasons == {"outside_bookable_hours", "room_not_reservable"}


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=YEARLY;COUNT=3",
        "FREQ=WEEKLY",
        "FREQ=WEEKLY;COUNT=100000",
        "FREQ=DAILY;UNTIL=20400101",
        "FREQ=WEEKLY;BYDAY=XX;COUNT=2",
        "nonsense",
        "FREQ=WEEKLY;BYDAY=MO;UNTIL=20300101",
    ],
)
async def test_a_bad_rule_is_a_422_never_a_500(
    client: httpx.AsyncClient, people: dict[str, dict[str, str]], make_room: RoomFactory, rule: str
) -> None:
    room = await make_room(days=60)
    response = await _create(client, room, people["owner"], _series(rule=rule))
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] in {
        "invalid_rule",
        "rule_without_end",
        "too_many_occurrences",
        "series_too_long",
        "no_occurrences",
    }


async def test_dates_at_the_calendars_ends_are_refused_not_a_500(
    client: httpx.AsyncClient, people: dict[str, dict[str, str]], make_room: RoomFactory
) -> None:
    room = await make_room(days=60)
    # Dates the room is not open on: each is named (409), the calendar's end no trouble.
    for start_date, expected in (("9999-12-01", 409), ("0001-01-02", 409)):
        body = _series(start_date=start_date, rule="FREQ=DAILY;COUNT=3")
        created = await _create(client, room, people["owner"], body)
        assert created.status_code == expected, created.text
        preview = await client.post(
            f"/api/rooms/{room}/series/preview", json=body, headers=people["owner"]
        )
        assert preview.status_code in (200, 422), preview.text
    series_id = (await _create(client, room, people["owner"], _series())).json()["series_id"]
    for change in (
        {"scope": "following"},
        {"scope": "following", "from_date": "9999-12-31"},
        {"scope": "all", "from_date": "0001-01-01", "rule": "FREQ=DAILY;COUNT=3"},
        {"start_time": "12:00", "end_time": "11:00"},
        {"room_id": 2147483647},
        {"rule": "FREQ=MONTHLY;BYMONTHDAY=31;COUNT=9999"},
        {"title": None},
    ):
        response = await client.patch(
            f"/api/series/{series_id}", json=change, headers=people["owner"]
        )
        assert response.status_code < 500, (change, response.text)
    assert (
        await client.delete(
            f"/api/series/{series_id}", params={"from_date": "9999-12-31"}, headers=people["owner"]
        )
    ).status_code == 204


async def test_a_series_reads_with_its_rule_in_words_and_its_version_as_etag(
    client: httpx.AsyncClient, people: dict[str, dict[str, str]], make_room: RoomFactory
) -> None:
    room = await make_room(days=60)
    series_id = (await _create(client, room, people["owner"], _series())).json()["series_id"]
    response = await client.get(
        f"/api/series/{series_id}", headers={**people["owner"], "Accept-Language": "ja"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert response.headers["ETag"] == '"1"'
    assert body["rule"] == "FREQ=WEEKLY;BYDAY=TU;COUNT=4"
    assert "火曜日" in body["rule_description"]
    assert body["start_time"] == "10:00"
    assert body["status"] == "ACTIVE"
    assert [each["state"] for each in body["occurrences"]] == ["active"] * 4
    assert body["exceptions"] == []
    missing = await client.get("/api/series/999999", headers=people["owner"])
    assert missing.status_code == 404


async def test_a_private_series_hides_its_details_from_others(
    client: httpx.AsyncClient, people: dict[str, dict[str, str]], make_room: RoomFactory
) -> None:
    room = await make_room(days=60)
    body = _series(visibility="PRIVATE", description="Salaries", attendees=["guest"])
    series_id = (await _create(client, room, people["owner"], body)).json()["series_id"]
    seen = (await client.get(f"/api/series/{series_id}", headers=people["other"])).json()
    assert seen["details_visible"] is False
    assert seen["title"] != "Weekly sync"
    assert seen["description"] == ""
    assert seen["attendees"] == []
    for reader in ("guest", "admin", "owner"):
        shown = (await client.get(f"/api/series/{series_id}", headers=people[reader])).json()
        assert shown["title"] == "Weekly sync"
        assert shown["description"] == "Salaries"


async def test_an_occurrence_changed_or_cancelled_on_its_own_becomes_an_exception(
    client: httpx.AsyncClient, people: dict[str, dict[str, str]], make_room: RoomFactory
) -> None:
    room = await make_room(days=60)
    created = (await _create(client, room, people["owner"], _series())).json()
    first, second = (each["reservation_id"] for each in created["occurrences"][:2])
    changed = await client.patch(
        f"/api/reservations/{first}",
        json={"start_time": "14:00", "end_time": "15:00"},
        headers=people["owner"],
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["is_exception"] is True
    assert (
        await client.delete(f"/api/reservations/{second}", headers=people["owner"])
    ).status_code == 204
    cancelled = (await client.get(f"/api/reservations/{second}", headers=people["owner"])).json()
    assert cancelled["is_exception"] is True
    assert cancelled["status"] == "CANCELLED"
    series = (
        await client.get(f"/api/series/{created['series_id']}", headers=people["owner"])
    ).json()
    assert [each["state"] for each in series["exceptions"]] == ["moved", "cancelled"]


async def test_series_edits_keep_exceptions_and_the_past_untouched(
    client: httpx.AsyncClient,
    people: dict[str, dict[str, str]],
    make_room: RoomFactory,
    clock: FixedClock,
) -> None:
    room = await make_room(days=60)
    owner = people["owner"]
    created = (await _create(client, room, owner, _series(count=6))).json()
    series_id = created["series_id"]
    ids = [each["reservation_id"] for each in created["occurrences"]]
    # One occurrence retitled, another cancelled on its own.
    retitled = await client.patch(
        f"/api/reservations/{ids[2]}", json={"title": "Special"}, headers=owner
    )
    assert retitled.status_code == 200
    assert (await client.delete(f"/api/reservations/{ids[3]}", headers=owner)).status_code == 204
    before = {
        each: (await client.get(f"/api/reservations/{each}", headers=owner)).json()
        for each in ids[2:4]
    }
    # The first Tuesday passes.
    clock.now = clock.now + timedelta(days=2)
    past = (await client.get(f"/api/reservations/{ids[0]}", headers=owner)).json()

    everything = await client.patch(
        f"/api/series/{series_id}",
        json={"scope": "all", "title": "Renamed", "start_time": "13:00", "end_time": "14:00"},
        headers=owner,
    )
    assert everything.status_code == 200, everything.text
    assert everything.headers["ETag"] == '"2"'
    after = {each["reservation_id"]: each for each in await _room_reservations(client, room, owner)}
    assert (after[ids[1]]["title"], after[ids[1]]["start_time"]) == ("Renamed", "13:00")
    assert after[ids[1]]["is_exception"] is False
    for each in ids[2:4]:
        assert (await client.get(f"/api/reservations/{each}", headers=owner)).json() == before[each]
    assert (await client.get(f"/api/reservations/{ids[0]}", headers=owner)).json() == past

    following = await client.patch(
        f"/api/series/{series_id}",
        json={"scope": "following", "from_date": TUESDAYS[4].isoformat(), "title": "Later"},
        headers=owner,
    )
    assert following.status_code == 200, following.text
    new = following.json()
    assert new["series_id"] != series_id
    assert new["rule"] == "FREQ=WEEKLY;BYDAY=TU;COUNT=2"
    assert [each["reservation_id"] for each in new["occurrences"]] == ids[4:]
    old = (await client.get(f"/api/series/{series_id}", headers=owner)).json()
    assert old["rule"] == f"FREQ=WEEKLY;BYDAY=TU;UNTIL={TUESDAYS[4] - timedelta(days=1):%Y%m%d}"
    assert old["version"] == 3
    for each in ids[4:]:
        shown = (await client.get(f"/api/reservations/{each}", headers=owner)).json()
        assert (shown["title"], shown["series_id"]) == ("Later", new["series_id"])
    for each in ids[2:4]:
        assert (await client.get(f"/api/reservations/{each}", headers=owner)).json() == before[each]
    assert (await client.get(f"/api/reservations/{ids[0]}", headers=owner)).json() == past
    assert (await client.get(f"/api/reservations/{ids[1]}", headers=owner)).json()[
        "title"
    ] == "Renamed"


async def test_a_series_edit_that_meets_a_booking_is_refused_whole_or_skips_it(
    client: httpx.AsyncClient, people: dict[str, dict[str, str]], make_room: RoomFactory
) -> None:
    room = await make_room(days=60)
    created = (await _create(client, room, people["owner"], _series())).json()
    in_the_way = await _book(client, room, people["other"], TUESDAYS[2], "12:00", "13:00")
    move = {"scope": "all", "start_time": "12:00", "end_time": "13:00"}
    refused = await client.patch(
        f"/api/series/{created['series_id']}", json=move, headers=people["owner"]
    )
    assert refused.status_code == 409
    assert refused.json()["error"]["details"]["dates"] == [
        {
            "date": TUESDAYS[2].isoformat(),
            "reason": "reservation_conflict",
            "reservation_id": in_the_way,
        }
    ]
    unchanged = await _room_reservations(client, room, people["owner"])
    assert {each["start_time"] for each in unchanged if each["series_id"]} == {"10:00"}
    skipped = await client.patch(
        f"/api/series/{created['series_id']}",
        json={**move, "on_conflict": "skip"},
        headers=people["owner"],
    )
    assert skipped.status_code == 200, skipped.text
    assert [each["date"] for each in skipped.json()["skipped"]] == [TUESDAYS[2].isoformat()]
    mine = [
        each
        for each in await _room_reservations(client, room, people["owner"])
        if each["series_id"]
    ]
    assert [(each["date"], each["start_time"]) for each in mine] == [
        (day.isoformat(), "12:00") for day in (TUESDAYS[0], TUESDAYS[1], TUESDAYS[3])
    ]


async def test_cancelling_from_a_date_keeps_what_comes_before(
    client: httpx.AsyncClient, people: dict[str, dict[str, str]], make_room: RoomFactory
) -> None:
    room = await make_room(days=60)
    created = (await _create(client, room, people["owner"], _series())).json()
    series_id = created["series_id"]
    response = await client.delete(
        f"/api/series/{series_id}",
        params={"from_date": TUESDAYS[2].isoformat()},
        headers=people["owner"],
    )
    assert response.status_code == 204, response.text
    series = (await client.get(f"/api/series/{series_id}", headers=people["owner"])).json()
    assert [each["state"] for each in series["occurrences"]] == [
        "active",
        "active",
        "cancelled",
        "cancelled",
    ]
    assert series["status"] == "ACTIVE"
    assert (
        await client.delete(f"/api/series/{series_id}", headers=people["owner"])
    ).status_code == 204
    series = (await client.get(f"/api/series/{series_id}", headers=people["owner"])).json()
    assert series["status"] == "CANCELLED"
    assert {each["status"] for each in series["occurrences"]} == {"CANCELLED"}


async def test_a_stale_if_match_is_412_and_someone_elses_series_is_403(
    client: httpx.AsyncClient, people: dict[str, dict[str, str]], make_room: RoomFactory
) -> None:
    room = await make_room(days=60)
    series_id = (await _create(client, room, people["owner"], _series())).json()["series_id"]
    url = f"/api/series/{series_id}"
    assert (
        await client.patch(url, json={"title": "x"}, headers=people["other"])
    ).status_code == 403
    assert (await client.delete(url, headers=people["other"])).status_code == 403
    renamed = await client.patch(
        url, json={"title": "x"}, headers={**people["owner"], "If-Match": '"1"'}
    )
    assert renamed.status_code == 200
    stale = {**people["owner"], "If-Match": '"1"'}
    assert (await client.patch(url, json={"title": "y"}, headers=stale)).status_code == 412
    assert (await client.delete(url, headers=stale)).status_code == 412
    # An administrator may change anyone's series.
    assert (
        await client.patch(url, json={"title": "z"}, headers=people["admin"])
    ).status_code == 200
