"""Free-room search, a room's reservations over days and the day timeline, through the API,
on PostgreSQL and on SQLite (tests/reservations/conftest.py).

The app's clock is pinned to Monday 2030-01-07 09:00 in Tokyo (tests/conftest.py)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from mrs.accounts.models import Role
from mrs.rooms import service as rooms_service
from tests.conftest import LoginFactory, RoomFactory, UserFactory
from tests.reservations.conftest import EquipmentFactory, MeetingFactory
from tests.reservations.test_service_hot_paths import counted_statements

pytestmark = pytest.mark.both_databases


def _search(day: date, start: str, end: str, **more: Any) -> dict[str, Any]:
    return {"date": day.isoformat(), "start_time": start, "end_time": end, **more}


def _names(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [room["room_name"] for room in response.json()]


def _field_error(response: httpx.Response) -> tuple[str, Any]:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["message"]
    details = error["details"]
    field = details[0]["field"] if isinstance(details, list) else details["field"]
    return error["code"], field


# --- free-room search ---


async def test_the_smallest_adequate_room_comes_first_and_unknown_sizes_last(
    client: httpx.AsyncClient, user_headers: dict[str, str], make_room: RoomFactory, tomorrow: date
) -> None:
    await make_room("Large", capacity=20)
    await make_room("Unknown size", capacity=None)
    await make_room("Small B", capacity=4)
    await make_room("Small A", capacity=4)
    await make_room("Medium", capacity=8)
    answer = await client.get(
        "/api/rooms/available", params=_search(tomorrow, "10:00", "11:00"), headers=user_headers
    )
    assert _names(answer) == ["Small A", "Small B", "Medium", "Large", "Unknown size"]
    answer = await client.get(
        "/api/rooms/available",
        params=_search(tomorrow, "10:00", "11:00", capacity=6),
        headers=user_headers,
    )
    assert _names(answer) == ["Medium", "Large"]


async def test_only_rooms_with_all_the_equipment_are_found(
    client: httpx.AsyncClient,
    user_headers: dict[str, str],
    make_room: RoomFactory,
    equip: EquipmentFactory,
    tomorrow: date,
) -> None:
    both = await make_room("Both", capacity=10)
    projector = await make_room("Projector only", capacity=6)
    await make_room("Bare", capacity=4)
    await equip(both, "projector", "whiteboard")
    await equip(projector, "projector")
    params = _search(tomorrow, "10:00", "11:00", equipment="projector")
    answer = await client.get("/api/rooms/available", params=params, headers=user_headers)
    assert _names(answer) == ["Projector only", "Both"]
    assert answer.json()[1]["equipment"] == ["projector", "whiteboard"]
    params = _search(tomorrow, "10:00", "11:00", equipment="whiteboard,projector", capacity=6)
    answer = await client.get("/api/rooms/available", params=params, headers=user_headers)
    assert _names(answer) == ["Both"]


async def test_a_room_busy_during_any_part_of_the_range_is_left_out(
    client: httpx.AsyncClient,
    make_user: UserFactory,
    login: LoginFactory,
    make_room: RoomFactory,
    meeting: MeetingFactory,
    tomorrow: date,
) -> None:
    busy = await make_room("Busy", capacity=4)
    await make_room("Free", capacity=6)
    owner = await make_user()
    headers = await login(owner)
    await meeting(owner, busy, tomorrow, "10:00", "11:00")
    overlapping = _search(tomorrow, "10:30", "11:30")
    assert _names(
        await client.get("/api/rooms/available", params=overlapping, headers=headers)
    ) == ["Free"]
    # Half-open ranges: the meeting ends as the searched time starts.
    adjacent = _search(tomorrow, "11:00", "12:00")
    assert _names(await client.get("/api/rooms/available", params=adjacent, headers=headers)) == [
        "Busy",
        "Free",
    ]


async def test_rooms_not_bookable_that_day_are_not_found(
    app: Any,
    client: httpx.AsyncClient,
    user_headers: dict[str, str],
    make_room: RoomFactory,
    tomorrow: date,
) -> None:
    await make_room("Never opened", days=0)
    out_of_use = await make_room("Out of use")
    await rooms_service.update_room(app.state.db, room_id=out_of_use, changes={"active": False})
    await make_room("Open")
    answer = await client.get(
        "/api/rooms/available", params=_search(tomorrow, "10:00", "11:00"), headers=user_headers
    )
    assert _names(answer) == ["Open"]


async def test_rooms_closed_at_those_hours_are_not_found(
    app: Any,
    client: httpx.AsyncClient,
    user_headers: dict[str, str],
    make_room: RoomFactory,
    tomorrow: date,
) -> None:
    office_hours = await make_room("Office hours")
    await rooms_service.update_room(
        app.state.db,
        room_id=office_hours,
        changes={"opening": {"open_minute": 9 * 60, "close_minute": 18 * 60}},
    )
    await make_room("All day")
    evening = await client.get(
        "/api/rooms/available", params=_search(tomorrow, "17:30", "19:00"), headers=user_headers
    )
    assert _names(evening) == ["All day"]
    afternoon = await client.get(
        "/api/rooms/available", params=_search(tomorrow, "17:00", "18:00"), headers=user_headers
    )
    assert sorted(_names(afternoon)) == ["All day", "Office hours"]


async def test_the_search_is_one_statement(
    app: Any,
    client: httpx.AsyncClient,
    user_headers: dict[str, str],
    make_room: RoomFactory,
    equip: EquipmentFactory,
    tomorrow: date,
) -> None:
    room = await make_room("Projector room")
    await equip(room, "projector")
    params = _search(tomorrow, "10:00", "11:00", equipment="projector", capacity=2)
    await client.get("/api/rooms/available", params=params, headers=user_headers)  # warm up
    with counted_statements(app.state.db) as statements:
        answer = await client.get("/api/rooms/available", params=params, headers=user_headers)
    assert _names(answer) == ["Projector room"]
    searches = [s for s in statements if "room_equipment" in s]
    assert len(searches) == 1, statements


@pytest.mark.parametrize(
    ("params", "code", "field"),
    [
        (
            {"date": "2030-02-30", "start_time": "10:00", "end_time": "11:00"},
            "validation_error",
            "date",
        ),
        (
            {"date": "tomorrow", "start_time": "10:00", "end_time": "11:00"},
            "validation_error",
            "date",
        ),
        (
            {"date": "2030-01-08", "start_time": "25:00", "end_time": "26:00"},
            "validation_error",
            "start_time",
        ),
        (
            {"date": "2030-01-08", "start_time": "10:00", "end_time": "10:00"},
            "invalid_time_range",
            "end_time",
        ),
        (
            {"date": "2030-01-08", "start_time": "11:00", "end_time": "10:00"},
            "invalid_time_range",
            "end_time",
        ),
        (
            {"date": "2030-01-08", "start_time": "10:10", "end_time": "11:00"},
            "slot_misaligned",
            "end_time",
        ),
        (
            {"date": "2030-01-08", "start_time": "10:00", "end_time": "11:00", "capacity": "0"},
            "validation_error",
            "capacity",
        ),
        (
            {"date": "2030-01-08", "start_time": "10:00", "end_time": "11:00", "capacity": "six"},
            "validation_error",
            "capacity",
        ),
        (
            {
                "date": "2030-01-08",
                "start_time": "10:00",
                "end_time": "11:00",
                "equipment": "teleporter",
            },
            "unknown_equipment",
            "equipment",
        ),
        (
            {"date": "2030-01-08", "start_time": "10:00", "end_time": "11:00", "equipment": "a;b"},
            "unknown_equipment",
            "equipment",
        ),
        (
            {
                "date": "2030-01-08",
                "start_time": "10:00",
                "end_time": "11:00",
                "equipment": ",".join(f"e{i}" for i in range(11)),
            },
            "too_many_equipment_codes",
            "equipment",
        ),
        ({"start_time": "10:00", "end_time": "11:00"}, "validation_error", "date"),
    ],
)
async def test_bad_search_parameters_are_422_naming_the_field(
    client: httpx.AsyncClient,
    user_headers: dict[str, str],
    make_room: RoomFactory,
    params: dict[str, str],
    code: str,
    field: str,
) -> None:
    await make_room("Sakura")
    answer = await client.get("/api/rooms/available", params=params, headers=user_headers)
    assert _field_error(answer) == (code, field)


async def test_an_unknown_code_is_refused_even_beside_a_known_one(
    client: httpx.AsyncClient,
    user_headers: dict[str, str],
    make_room: RoomFactory,
    equip: EquipmentFactory,
    tomorrow: date,
) -> None:
    await equip(await make_room("Sakura"), "projector")
    params = _search(tomorrow, "10:00", "11:00", equipment="projector,hologram")
    answer = await client.get("/api/rooms/available", params=params, headers=user_headers)
    assert _field_error(answer) == ("unknown_equipment", "equipment")
    assert answer.json()["error"]["details"]["codes"] == ["hologram"]
    assert "hologram" in answer.json()["error"]["message"]


async def test_the_search_needs_a_login(client: httpx.AsyncClient, tomorrow: date) -> None:
    answer = await client.get("/api/rooms/available", params=_search(tomorrow, "10:00", "11:00"))
    assert answer.status_code == 401


async def test_search_errors_speak_japanese(
    client: httpx.AsyncClient, user_headers: dict[str, str], tomorrow: date
) -> None:
    params = _search(tomorrow, "10:00", "11:00", equipment="hologram")
    answer = await client.get(
        "/api/rooms/available", params=params, headers={**user_headers, "Accept-Language": "ja"}
    )
    assert answer.status_code == 422
    assert "設備" in answer.json()["error"]["message"]


# --- a room's reservations over days ---


async def test_a_rooms_reservations_over_a_range_of_days(
    client: httpx.AsyncClient,
    make_user: UserFactory,
    login: LoginFactory,
    make_room: RoomFactory,
    meeting: MeetingFactory,
    tomorrow: date,
) -> None:
    room = await make_room("Sakura", days=30)
    other = await make_room("Other")
    owner = await make_user()
    headers = await login(owner)
    await meeting(owner, room, tomorrow + timedelta(days=2), "09:00", "10:00")
    await meeting(owner, room, tomorrow, "14:00", "15:00")
    await meeting(owner, room, tomorrow, "10:00", "11:00")
    await meeting(owner, other, tomorrow, "10:00", "11:00")
    await meeting(owner, room, tomorrow + timedelta(days=20), "10:00", "11:00")
    answer = await client.get(
        f"/api/rooms/{room}/reservations",
        params={"from": tomorrow.isoformat(), "to": (tomorrow + timedelta(days=6)).isoformat()},
        headers=headers,
    )
    assert answer.status_code == 200, answer.text
    assert [(r["date"], r["start_time"]) for r in answer.json()] == [
        (tomorrow.isoformat(), "10:00"),
        (tomorrow.isoformat(), "14:00"),
        ((tomorrow + timedelta(days=2)).isoformat(), "09:00"),
    ]
    # The one-day form keeps working.
    day = await client.get(
        f"/api/rooms/{room}/reservations", params={"date": tomorrow.isoformat()}, headers=headers
    )
    assert [r["start_time"] for r in day.json()] == ["10:00", "14:00"]


@pytest.mark.parametrize(
    ("params", "code", "field"),
    [
        ({"from": "2030-01-08", "to": "2030-02-08"}, "date_range_too_long", "to"),
        ({"from": "2030-01-08", "to": "2030-01-07"}, "invalid_date_range", "to"),
        ({"from": "2030-01-08"}, "validation_error", "to"),
        ({"to": "2030-01-08"}, "validation_error", "from"),
        ({}, "validation_error", "from"),
        ({"from": "2030-13-01", "to": "2030-01-08"}, "validation_error", "from"),
    ],
)
async def test_a_range_longer_than_31_days_or_backwards_is_422(
    client: httpx.AsyncClient,
    user_headers: dict[str, str],
    make_room: RoomFactory,
    params: dict[str, str],
    code: str,
    field: str,
) -> None:
    room = await make_room()
    answer = await client.get(
        f"/api/rooms/{room}/reservations", params=params, headers=user_headers
    )
    assert _field_error(answer) == (code, field)


async def test_31_days_is_the_longest_range(
    client: httpx.AsyncClient, user_headers: dict[str, str], make_room: RoomFactory
) -> None:
    room = await make_room()
    answer = await client.get(
        f"/api/rooms/{room}/reservations",
        params={"from": "2030-01-01", "to": "2030-01-31"},
        headers=user_headers,
    )
    assert answer.status_code == 200


# --- the day timeline ---


async def _timeline(client: httpx.AsyncClient, day: date, headers: dict[str, str]) -> Any:
    answer = await client.get("/api/timeline", params={"date": day.isoformat()}, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_the_timeline_lists_every_bookable_room_with_its_meetings(
    client: httpx.AsyncClient,
    make_user: UserFactory,
    login: LoginFactory,
    make_room: RoomFactory,
    equip: EquipmentFactory,
    meeting: MeetingFactory,
    tomorrow: date,
) -> None:
    sakura = await make_room("Sakura", capacity=8)
    await make_room("Kaede", capacity=4)
    await make_room("Closed", days=0)
    await equip(sakura, "whiteboard", "projector")
    owner = await make_user("hana")
    await meeting(owner, sakura, tomorrow, "13:00", "14:00", title="Budget review")
    await meeting(owner, sakura, tomorrow, "10:00", "11:00")
    body = await _timeline(client, tomorrow, await login(owner))
    assert body["date"] == tomorrow.isoformat()
    assert [room["room_name"] for room in body["rooms"]] == ["Kaede", "Sakura"]
    kaede, room = body["rooms"]
    assert kaede["reservations"] == []
    assert (room["capacity"], room["location"], room["equipment"]) == (
        8,
        "1F",
        ["projector", "whiteboard"],
    )
    assert [(r["start_time"], r["end_time"], r["title"]) for r in room["reservations"]] == [
        ("10:00", "11:00", "Test Hana"),  # no title: the owner's name
        ("13:00", "14:00", "Budget review"),
    ]
    assert room["reservations"][0]["owner_name"] == "Test Hana"


async def test_a_private_meeting_shows_others_reserved_and_the_owner_only(
    client: httpx.AsyncClient,
    make_user: UserFactory,
    login: LoginFactory,
    make_room: RoomFactory,
    meeting: MeetingFactory,
    tomorrow: date,
) -> None:
    room = await make_room("Sakura")
    owner = await make_user("hana")
    attendee = await make_user("ken")
    stranger = await make_user("yui")
    admin = await make_user("boss", role=Role.ADMIN)
    await meeting(
        owner,
        room,
        tomorrow,
        "10:00",
        "11:00",
        title="Reorganisation",
        visibility="PRIVATE",
        attendees=(attendee,),
    )
    seen = {}
    for viewer in (owner, attendee, stranger, admin):
        body = await _timeline(client, tomorrow, await login(viewer))
        seen[viewer] = body["rooms"][0]["reservations"][0]
    for viewer in (owner, attendee, admin):
        assert (seen[viewer]["title"], seen[viewer]["details_visible"]) == ("Reorganisation", True)
    hidden = seen[stranger]
    assert (hidden["title"], hidden["details_visible"]) == ("Reserved", False)
    assert (hidden["owner_id"], hidden["owner_name"]) == ("hana", "Test Hana")
    body = await _timeline(client, tomorrow, {**await login(stranger), "Accept-Language": "ja"})
    hidden_ja = body["rooms"][0]["reservations"][0]
    assert (hidden_ja["title"], hidden_ja["owner_name"]) == ("予約済み", "Hana Test")


async def test_the_timeline_is_one_statement(
    app: Any,
    client: httpx.AsyncClient,
    make_user: UserFactory,
    login: LoginFactory,
    make_room: RoomFactory,
    equip: EquipmentFactory,
    meeting: MeetingFactory,
    tomorrow: date,
) -> None:
    owner = await make_user()
    for number in range(5):
        room = await make_room(f"Room {number}")
        await equip(room, f"tag{number}")
        await meeting(owner, room, tomorrow, "10:00", "11:00")
    headers = await login(owner)
    await _timeline(client, tomorrow, headers)  # warm up
    with counted_statements(app.state.db) as statements:
        body = await _timeline(client, tomorrow, headers)
    assert len(body["rooms"]) == 5
    assert len([s for s in statements if "reservable_room" in s]) == 1, statements


async def test_a_bad_timeline_date_is_422(
    client: httpx.AsyncClient, user_headers: dict[str, str]
) -> None:
    answer = await client.get("/api/timeline", params={"date": "2030-02-31"}, headers=user_headers)
    assert _field_error(answer) == ("validation_error", "date")
