"""Editing and moving a reservation (PATCH /api/reservations/{id}): owner or admin, the
ETag and If-Match, a move that is refused leaves the reservation exactly as it was, and
the owner is mailed when an administrator changes it; on PostgreSQL and SQLite."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from mrs.accounts import users
from mrs.accounts.models import Role
from mrs.clock import FixedClock
from mrs.notifications.models import OutboxMail
from mrs.rooms import service as rooms_service
from tests.conftest import DEFAULT_PASSWORD, LoginFactory, RoomFactory
from tests.mail import run_invitation_job

pytestmark = pytest.mark.both_databases


@pytest.fixture
async def people(app: Any, clock: FixedClock, login: LoginFactory) -> dict[str, dict[str, str]]:
    """Taro (owner, reads Japanese mail), Hanako and Ken (users), an administrator."""
    headers = {}
    for user_id, first, last, locale in (
        ("taro", "Taro", "Tanaka", "ja"),
        ("hanako", "Hanako", "Sato", None),
        ("ken", "Ken", "Ito", None),
        ("boss", "Aiko", "Admin", None),
    ):
        await users.create_user(
            app.state.db,
            user_id=user_id,
            password=DEFAULT_PASSWORD,
            email=f"{user_id}@example.com",
            first_name=first,
            last_name=last,
            role=Role.ADMIN if user_id == "boss" else Role.USER,
            now=clock(),
            locale=locale,
        )
        headers[user_id] = await login(user_id)
    return headers


async def _reserve(
    client: httpx.AsyncClient,
    room: int,
    headers: dict[str, str],
    day: date,
    start: str = "10:00",
    end: str = "11:00",
    **meeting: Any,
) -> dict[str, Any]:
    response = await client.post(
        f"/api/rooms/{room}/reservations",
        json={"date": day.isoformat(), "start_time": start, "end_time": end, **meeting},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def _patch(
    client: httpx.AsyncClient, reservation_id: int, headers: dict[str, str], **body: Any
) -> httpx.Response:
    return await client.patch(f"/api/reservations/{reservation_id}", json=body, headers=headers)


async def _read(client: httpx.AsyncClient, reservation_id: int, headers: dict[str, str]) -> Any:
    response = await client.get(f"/api/reservations/{reservation_id}", headers=headers)
    assert response.status_code == 200
    return response.json()


async def _mails(app: Any) -> list[OutboxMail]:
    async with app.state.db.snapshot() as session:
        return list((await session.scalars(select(OutboxMail))).all())


async def test_the_owner_moves_a_meeting_to_another_time_room_and_date(
    client: httpx.AsyncClient,
    people: dict[str, dict[str, str]],
    make_room: RoomFactory,
    tomorrow: date,
    clock: FixedClock,
    app: Any,
) -> None:
    first_room, second_room = await make_room(), await make_room()
    made = await _reserve(client, first_room, people["taro"], tomorrow, title="Standup")
    later = tomorrow + timedelta(days=2)
    clock.now += timedelta(minutes=5)
    moved = await _patch(
        client,
        made["reservation_id"],
        people["taro"],
        room_id=second_room,
        date=later.isoformat(),
        start_time="14:00",
        end_time="15:30",
    )
    assert moved.status_code == 200, moved.text
    body = moved.json()
    assert (body["room_id"], body["date"], body["start_time"], body["end_time"]) == (
        second_room,
        later.isoformat(),
        "14:00",
        "15:30",
    )
    assert body["title"] == "Standup"
    assert body["version"] == 2
    assert moved.headers["etag"] == '"2"'
    assert body["updated_at"] is not None
    assert await _read(client, made["reservation_id"], people["taro"]) == body
    old_day = await client.get(
        f"/api/rooms/{first_room}/reservations",
        params={"date": tomorrow.isoformat()},
        headers=people["taro"],
    )
    assert old_day.json() == []
    assert await _mails(app) == []  # mail is written by the invitation job, never here


async def test_a_move_may_overlap_its_own_old_time(
    client: httpx.AsyncClient,
    people: dict[str, dict[str, str]],
    make_room: RoomFactory,
    tomorrow: date,
) -> None:
    room = await make_room()
    made = await _reserve(client, room, people["taro"], tomorrow, "10:00", "11:00")
    moved = await _patch(
        client, made["reservation_id"], people["taro"], start_time="10:30", end_time="11:30"
    )
    assert moved.status_code == 200, moved.text
    assert (moved.json()["start_time"], moved.json()["end_time"]) == ("10:30", "11:30")


async def test_what_the_meeting_is_can_be_changed_and_attendees_are_replaced(
    client: httpx.AsyncClient,
    people: dict[str, dict[str, str]],
    make_room: RoomFactory,
    tomorrow: date,
) -> None:
    room = await make_room()
    made = await _reserve(
        client, room, people["taro"], tomorrow, title="Draft", attendees=["hanako"]
    )
    changed = await _patch(
        client,
        made["reservation_id"],
        people["taro"],
        title="  Design review ",
        description="Bring the mock-ups.",
        visibility="PRIVATE",
        attendees=["ken", "taro", "KEN"],
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["title"], body["description"], body["visibility"]) == (
        "Design review",
        "Bring the mock-ups.",
        "PRIVATE",
    )
    assert body["attendees"] == [{"user_id": "ken", "display_name": "Ken Ito"}]
    assert (body["start_time"], body["end_time"], body["version"]) == ("10:00", "11:00", 2)
    # Hanako is no longer invited: the private meeting is hidden from her now.
    assert (await _read(client, made["reservation_id"], people["hanako"]))["title"] == "Reserved"
    assert (await client.get("/api/reservations/mine", headers=people["hanako"])).json() == []
    ken_mine = (await client.get("/api/reservations/mine", headers=people["ken"])).json()
    assert [(m["reservation_id"], m["role"]) for m in ken_mine] == [
        (made["reservation_id"], "attendee")
    ]
    cleared = await _patch(client, made["reservation_id"], people["taro"], title=None)
    assert (cleared.json()["title"], cleared.json()["title_given"]) == ("Taro Tanaka", False)
    assert cleared.json()["version"] == 3
    no_one = await _patch(client, made["reservation_id"], people["taro"], attendees=[])
    assert no_one.json()["attendees"] == []


async def test_a_change_to_nothing_new_keeps_the_version(
    client: httpx.AsyncClient,
    people: dict[str, dict[str, str]],
    make_room: RoomFactory,
    tomorrow: date,
) -> None:
    room = await make_room()
    made = await _reserve(client, room, people["taro"], tomorrow, title="Same", attendees=["ken"])
    same = await _patch(
        client,
        made["reservation_id"],
        people["taro"],
        title="Same",
        start_time="10:00",
        attendees=["ken"],
    )
    assert same.status_code == 200
    assert same.json() == made


async def test_an_admin_changes_someone_elses_meeting_and_the_owner_is_mailed_in_their_language(
    client: httpx.AsyncClient,
    people: dict[str, dict[str, str]],
    make_room: RoomFactory,
    tomorrow: date,
    app: Any,
) -> None:
    room = await make_room("Sakura")
    made = await _reserve(client, room, people["taro"], tomorrow, visibility="PRIVATE")
    moved = await _patch(
        client,
        made["reservation_id"],
        people["boss"],
        start_time="16:00",
        end_time="17:00",
        reason="The board needs the room at 10.",
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["role"] is None
    assert moved.json()["details_visible"] is True  # an administrator sees private meetings
    await run_invitation_job(app)
    [mail] = [m for m in await _mails(app) if "変更" in m.subject]
    assert mail.recipient == "taro@example.com"
    assert mail.subject == "Sakura, 1F のご予約が変更されました"
    assert "田中 太郎 様" not in mail.body  # names are "Tanaka Taro": family name first
    assert "Tanaka Taro 様" in mail.body
    assert "16:00–17:00" in mail.body
    assert "理由: The board needs the room at 10." in mail.body


async def test_only_the_owner_or_an_admin_may_change_a_reservation(
    client: httpx.AsyncClient,
    people: dict[str, dict[str, str]],
    make_room: RoomFactory,
    tomorrow: date,
) -> None:
    room = await make_room()
    made = await _reserve(client, room, people["taro"], tomorrow, attendees=["hanako"])
    for intruder in ("ken", "hanako"):  # an attendee may not change it either
        refused = await _patch(client, made["reservation_id"], people[intruder], title="Mine")
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "edit_not_allowed"
    missing = await _patch(client, 999999, people["taro"], title="x")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "reservation_not_found"
    assert await _read(client, made["reservation_id"], people["taro"]) == made


async def test_a_cancelled_or_ended_reservation_cannot_be_changed(
    client: httpx.AsyncClient,
    people: dict[str, dict[str, str]],
    make_room: RoomFactory,
    today: date,
    tomorrow: date,
    clock: FixedClock,
) -> None:
    room = await make_room()
    cancelled = await _reserve(client, room, people["taro"], tomorrow)
    await client.delete(f"/api/reservations/{cancelled['reservation_id']}", headers=people["taro"])
    refused = await _patch(client, cancelled["reservation_id"], people["taro"], title="Back")
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "already_cancelled"

    soon = await _reserve(client, room, people["taro"], today, "09:00", "09:30")
    clock.now += timedelta(hours=1)
    for who in ("taro", "boss"):
        over = await _patch(client, soon["reservation_id"], people[who], title="Later")
        assert over.status_code == 409
        assert over.json()["error"]["code"] == "reservation_ended"


async def test_if_match_with_a_stale_version_is_412_and_changes_nothing(
    client: httpx.AsyncClient,
    people: dict[str, dict[str, str]],
    make_room: RoomFactory,
    tomorrow: date,
) -> None:
    room = await make_room()
    made = await _reserve(client, room, people["taro"], tomorrow, title="v1")
    rid = made["reservation_id"]
    first = await client.patch(
        f"/api/reservations/{rid}",
        json={"title": "v2"},
        headers={**people["taro"], "If-Match": '"1"'},
    )
    assert first.status_code == 200, first.text
    assert first.headers["etag"] == '"2"'
    for stale in ('"1"', 'W/"2"', "garbage"):
        late = await client.patch(
            f"/api/reservations/{rid}",
            json={"title": "lost update"},
            headers={**people["boss"], "If-Match": stale},
        )
        assert late.status_code == 412, stale
        assert late.json()["error"]["code"] == "precondition_failed"
    assert (await _read(client, rid, people["taro"]))["title"] == "v2"
    for fine in ('"2"', '"7", "3"', "*"):
        ok = await client.patch(
            f"/api/reservations/{rid}",
            json={"description": fine},
            headers={**people["taro"], "If-Match": fine},
        )
        assert ok.status_code == 200, (fine, ok.text)
    unconditional = await _patch(client, rid, people["taro"], description="no If-Match")
    assert unconditional.status_code == 200
    assert unconditional.json()["version"] == 6


async def test_a_move_onto_another_booking_is_409_naming_it_and_leaves_the_original(
    client: httpx.AsyncClient,
    people: dict[str, dict[str, str]],
    make_room: RoomFactory,
    tomorrow: date,
) -> None:
    room = await make_room()
    mine = await _reserve(client, room, people["taro"], tomorrow, "10:00", "11:00", title="Mine")
    theirs = await _reserve(client, room, people["hanako"], tomorrow, "13:00", "14:00")
    refused = await _patch(
        client,
        mine["reservation_id"],
        people["taro"],
        start_time="12:30",
        end_time="13:30",
        title="Moved",
        attendees=["ken"],
    )
    assert refused.status_code == 409, refused.text
    error = refused.json()["error"]
    assert error["code"] == "reservation_conflict"
    assert error["details"] == {"reservation_id": theirs["reservation_id"]}
    assert "13:00" in error["message"]
    assert await _read(client, mine["reservation_id"], people["taro"]) == mine


async def test_a_move_into_a_closed_date_or_a_room_out_of_use_changes_nothing(
    client: httpx.AsyncClient,
    people: dict[str, dict[str, str]],
    make_room: RoomFactory,
    tomorrow: date,
    app: Any,
) -> None:
    room, retired = await make_room(days=3), await make_room()
    await rooms_service.update_room(app.state.db, room_id=retired, changes={"active": False})
    made = await _reserve(client, room, people["taro"], tomorrow)
    closed = await _patch(
        client,
        made["reservation_id"],
        people["taro"],
        date=(tomorrow + timedelta(days=10)).isoformat(),
    )
    assert closed.status_code == 404, closed.text
    assert closed.json()["error"]["code"] == "room_not_reservable"
    out = await _patch(client, made["reservation_id"], people["taro"], room_id=retired)
    assert out.status_code == 409
    assert out.json()["error"]["code"] == "room_out_of_use"
    nowhere = await _patch(client, made["reservation_id"], people["taro"], room_id=424242)
    assert nowhere.status_code == 404
    assert await _read(client, made["reservation_id"], people["taro"]) == made


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"start_time": "08:00", "date": "2030-01-07"}, 422, "start_in_past"),
        ({"start_time": "10:10"}, 422, "slot_misaligned"),
        ({"start_time": "12:00"}, 422, "invalid_time_range"),
        ({"attendees": ["nobody"]}, 422, "unknown_attendees"),
        ({"title": "x" * 201}, 422, "validation_error"),
        ({"date": None}, 422, "validation_error"),
        ({"visibility": "HIDDEN"}, 422, "validation_error"),
        ({"room_id": 0}, 422, "validation_error"),
        ({"colour": "red"}, 422, "validation_error"),
        ({"reason": "r" * 501}, 422, "validation_error"),
    ],
)
async def test_the_same_rules_as_reserving_apply_and_a_bad_change_changes_nothing(
    client: httpx.AsyncClient,
    people: dict[str, dict[str, str]],
    make_room: RoomFactory,
    tomorrow: date,
    change: dict[str, Any],
    status: int,
    code: str,
) -> None:
    room = await make_room()
    made = await _reserve(client, room, people["taro"], tomorrow)
    refused = await _patch(client, made["reservation_id"], people["taro"], **change)
    assert refused.status_code == status, refused.text
    assert refused.json()["error"]["code"] == code
    assert await _read(client, made["reservation_id"], people["taro"]) == made


async def test_a_null_field_is_named(
    client: httpx.AsyncClient,
    people: dict[str, dict[str, str]],
    make_room: RoomFactory,
    tomorrow: date,
) -> None:
    room = await make_room()
    made = await _reserve(client, room, people["taro"], tomorrow)
    refused = await _patch(
        client, made["reservation_id"], {**people["taro"], "Accept-Language": "ja"}, date=None
    )
    assert refused.json()["error"]["details"] == [
        {"field": "date", "message": "この項目は空にできません。"}
    ]


async def test_a_move_outside_the_rooms_bookable_hours_is_422_and_changes_nothing(
    client: httpx.AsyncClient,
    people: dict[str, dict[str, str]],
    make_room: RoomFactory,
    tomorrow: date,
    app: Any,
) -> None:
    room = await make_room()
    await rooms_service.update_room(
        app.state.db,
        room_id=room,
        changes={"opening": {"open_minute": 9 * 60, "close_minute": 18 * 60}},
    )
    made = await _reserve(client, room, people["taro"], tomorrow)
    late = await _patch(
        client, made["reservation_id"], people["taro"], start_time="17:30", end_time="18:30"
    )
    assert late.status_code == 422, late.text
    assert late.json()["error"]["code"] == "outside_bookable_hours"
    assert "09:00" in late.json()["error"]["message"]
    assert await _read(client, made["reservation_id"], people["taro"]) == made
