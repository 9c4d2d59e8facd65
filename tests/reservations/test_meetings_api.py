"""A reservation is a meeting: title, description, visibility and attendees on booking,
shown on every read as the reader may see them (owner, attendee, admin, anyone else),
on PostgreSQL and SQLite; and the users type-ahead for choosing attendees."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest

from mrs.accounts import users
from mrs.accounts.models import Role, UserStatus
from mrs.clock import FixedClock
from mrs.reservations import rules
from tests.conftest import DEFAULT_PASSWORD, LoginFactory, RoomFactory, UserFactory

pytestmark = pytest.mark.both_databases


@pytest.fixture
async def people(app: Any, clock: FixedClock, login: LoginFactory) -> dict[str, dict[str, str]]:
    """Taro Tanaka (owner), Hanako Sato and Ken Ito (attendees), Mai Mori (someone
    else), an administrator: their Authorization headers by user id."""
    names = {
        "taro": ("Taro", "Tanaka"),
        "hanako": ("Hanako", "Sato"),
        "ken": ("Ken", "Ito"),
        "mai": ("Mai", "Mori"),
        "boss": ("Aiko", "Admin"),
    }
    headers = {}
    for user_id, (first, last) in names.items():
        await users.create_user(
            app.state.db,
            user_id=user_id,
            password=DEFAULT_PASSWORD,
            email=f"{user_id}@example.com",
            first_name=first,
            last_name=last,
            role=Role.ADMIN if user_id == "boss" else Role.USER,
            now=clock(),
        )
        headers[user_id] = await login(user_id)
    return headers


def _booking(day: date, **meeting: Any) -> dict[str, Any]:
    return {"date": day.isoformat(), "start_time": "10:00", "end_time": "11:00", **meeting}


async def _reserve(
    client: httpx.AsyncClient, room: int, headers: dict[str, str], body: dict[str, Any]
) -> httpx.Response:
    return await client.post(f"/api/rooms/{room}/reservations", json=body, headers=headers)


async def test_a_meeting_is_booked_with_every_field_and_read_back(
    client: httpx.AsyncClient,
    people: dict[str, dict[str, str]],
    make_room: RoomFactory,
    tomorrow: date,
) -> None:
    room = await make_room()
    created = await _reserve(
        client,
        room,
        people["taro"],
        _booking(
            tomorrow,
            title="  Quarterly planning  ",
            description="Budget and hiring.",
            visibility="PRIVATE",
            attendees=["hanako", "KEN", "hanako", "taro"],
        ),
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["title"] == "Quarterly planning"  # trimmed
    assert body["title_given"] is True
    assert body["description"] == "Budget and hiring."
    assert body["visibility"] == "PRIVATE"
    # Deduplicated, ids normalised, the owner is not their own attendee.
    assert body["attendees"] == [
        {"user_id": "hanako", "display_name": "Hanako Sato"},
        {"user_id": "ken", "display_name": "Ken Ito"},
    ]
    assert body["owner"] == "Taro Tanaka"
    assert body["version"] == 1
    assert body["role"] == "owner"
    assert created.headers["etag"] == '"1"'

    read = await client.get(f"/api/reservations/{body['reservation_id']}", headers=people["taro"])
    assert read.status_code == 200
    assert read.headers["etag"] == '"1"'
    assert read.json() == body


async def test_the_seed_body_still_books_and_the_title_is_the_owners_name_in_the_readers_language(
    client: httpx.AsyncClient,
    people: dict[str, dict[str, str]],
    make_room: RoomFactory,
    tomorrow: date,
) -> None:
    room = await make_room()
    created = await _reserve(client, room, people["taro"], _booking(tomorrow))
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["title"], body["title_given"], body["visibility"]) == (
        "Taro Tanaka",
        False,
        "PUBLIC",
    )
    assert (body["description"], body["attendees"]) == ("", [])
    in_japanese = await client.get(
        f"/api/reservations/{body['reservation_id']}",
        headers={**people["mai"], "Accept-Language": "ja"},
    )
    assert in_japanese.json()["title"] == "Tanaka Taro"  # family name first
    assert in_japanese.json()["owner"] == "Tanaka Taro"


async def test_an_empty_title_is_no_title(
    client: httpx.AsyncClient,
    people: dict[str, dict[str, str]],
    make_room: RoomFactory,
    tomorrow: date,
) -> None:
    room = await make_room()
    created = await _reserve(client, room, people["taro"], _booking(tomorrow, title="   "))
    assert created.status_code == 201, created.text
    assert (created.json()["title"], created.json()["title_given"]) == ("Taro Tanaka", False)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", "x" * 201),
        ("description", "x" * 2001),
        ("visibility", "SECRET"),
        ("attendees", [f"user{n}" for n in range(101)]),
        ("attendees", "hanako"),
        ("attendees", [""]),
    ],
)
async def test_bad_meeting_fields_are_422_naming_the_field(
    client: httpx.AsyncClient,
    people: dict[str, dict[str, str]],
    make_room: RoomFactory,
    tomorrow: date,
    field: str,
    value: Any,
) -> None:
    room = await make_room()
    response = await _reserve(client, room, people["taro"], _booking(tomorrow, **{field: value}))
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert {detail["field"].split(".")[0] for detail in error["details"]} == {field}
    day = await client.get(
        f"/api/rooms/{room}/reservations",
        params={"date": tomorrow.isoformat()},
        headers=people["taro"],
    )
    assert day.json() == []


async def test_a_title_of_200_characters_is_accepted(
    client: httpx.AsyncClient,
    people: dict[str, dict[str, str]],
    make_room: RoomFactory,
    tomorrow: date,
) -> None:
    room = await make_room()
    response = await _reserve(client, room, people["taro"], _booking(tomorrow, title="t" * 200))
    assert response.status_code == 201, response.text
    assert response.json()["title"] == "t" * 200


async def test_unknown_or_inactive_attendees_are_422_naming_them_and_nothing_is_booked(
    client: httpx.AsyncClient,
    people: dict[str, dict[str, str]],
    make_room: RoomFactory,
    make_user: UserFactory,
    tomorrow: date,
) -> None:
    room = await make_room()
    await make_user("pending1", status=UserStatus.PENDING)
    response = await _reserve(
        client,
        room,
        people["taro"],
        _booking(tomorrow, attendees=["hanako", "nobody", "pending1"]),
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "unknown_attendees"
    assert error["details"] == {"field": "attendees", "user_ids": ["nobody", "pending1"]}
    assert "nobody, pending1" in error["message"]
    japanese = await _reserve(
        client,
        room,
        {**people["taro"], "Accept-Language": "ja"},
        _booking(tomorrow, attendees=["nobody"]),
    )
    assert "有効な利用者ではありません" in japanese.json()["error"]["message"]
    mine = await client.get("/api/reservations/mine", headers=people["taro"])
    assert mine.json() == []


async def test_a_booking_with_attendees_still_refuses_a_taken_time(
    client: httpx.AsyncClient,
    people: dict[str, dict[str, str]],
    make_room: RoomFactory,
    tomorrow: date,
) -> None:
    room = await make_room()
    first = await _reserve(client, room, people["mai"], _booking(tomorrow))
    second = await _reserve(
        client, room, people["taro"], _booking(tomorrow, title="Clash", attendees=["hanako"])
    )
    assert second.status_code == 409, second.text
    assert second.json()["error"]["details"] == {"reservation_id": first.json()["reservation_id"]}
    hanako = await client.get("/api/reservations/mine", headers=people["hanako"])
    assert hanako.json() == []


async def _private_meeting(
    client: httpx.AsyncClient, people: dict[str, dict[str, str]], room: int, day: date
) -> int:
    created = await _reserve(
        client,
        room,
        people["taro"],
        _booking(
            day,
            title="Reorganisation",
            description="Confidential.",
            visibility="PRIVATE",
            attendees=["hanako"],
        ),
    )
    assert created.status_code == 201, created.text
    return int(created.json()["reservation_id"])


@pytest.mark.parametrize(
    ("reader", "sees", "role"),
    [("taro", True, "owner"), ("hanako", True, "attendee"), ("boss", True, None)],
)
async def test_a_private_meeting_shows_everything_to_its_owner_attendees_and_admins(
    client: httpx.AsyncClient,
    people: dict[str, dict[str, str]],
    make_room: RoomFactory,
    tomorrow: date,
    reader: str,
    sees: bool,
    role: str | None,
) -> None:
    room = await make_room()
    reservation_id = await _private_meeting(client, people, room, tomorrow)
    one = (await client.get(f"/api/reservations/{reservation_id}", headers=people[reader])).json()
    day = (
        await client.get(
            f"/api/rooms/{room}/reservations",
            params={"date": tomorrow.isoformat()},
            headers=people[reader],
        )
    ).json()
    assert day == [one]
    assert (one["title"], one["description"], one["details_visible"]) == (
        "Reorganisation",
        "Confidential.",
        True,
    )
    assert [a["user_id"] for a in one["attendees"]] == ["hanako"]
    assert one["role"] == role


async def test_others_see_a_private_meeting_only_as_reserved_and_by_whom(
    client: httpx.AsyncClient,
    people: dict[str, dict[str, str]],
    make_room: RoomFactory,
    tomorrow: date,
) -> None:
    room = await make_room()
    reservation_id = await _private_meeting(client, people, room, tomorrow)
    for locale, reserved, owner in (
        ("en", "Reserved", "Taro Tanaka"),
        ("ja", "予約済み", "Tanaka Taro"),
    ):
        headers = {**people["mai"], "Accept-Language": locale}
        one = (await client.get(f"/api/reservations/{reservation_id}", headers=headers)).json()
        day = (
            await client.get(
                f"/api/rooms/{room}/reservations",
                params={"date": tomorrow.isoformat()},
                headers=headers,
            )
        ).json()
        assert day == [one]
        assert one["title"] == reserved
        assert one["owner"] == owner
        assert (one["title_given"], one["details_visible"], one["role"]) == (False, False, None)
        assert (one["description"], one["attendees"]) == ("", [])
        assert one["visibility"] == "PRIVATE"
        assert (one["start_time"], one["end_time"]) == ("10:00", "11:00")


async def test_a_public_meeting_shows_everything_to_everyone(
    client: httpx.AsyncClient,
    people: dict[str, dict[str, str]],
    make_room: RoomFactory,
    tomorrow: date,
) -> None:
    room = await make_room()
    created = await _reserve(
        client,
        room,
        people["taro"],
        _booking(tomorrow, title="All hands", description="Everyone.", attendees=["ken"]),
    )
    one = await client.get(
        f"/api/reservations/{created.json()['reservation_id']}", headers=people["mai"]
    )
    assert (one.json()["title"], one.json()["description"]) == ("All hands", "Everyone.")
    assert one.json()["attendees"] == [{"user_id": "ken", "display_name": "Ken Ito"}]


async def test_mine_lists_the_meetings_i_attend_marked_as_such(
    client: httpx.AsyncClient,
    people: dict[str, dict[str, str]],
    make_room: RoomFactory,
    tomorrow: date,
) -> None:
    room = await make_room()
    invited = await _private_meeting(client, people, room, tomorrow)
    own = await _reserve(
        client,
        room,
        people["hanako"],
        {"date": tomorrow.isoformat(), "start_time": "12:00", "end_time": "13:00"},
    )
    others = await _reserve(
        client,
        room,
        people["mai"],
        {"date": tomorrow.isoformat(), "start_time": "14:00", "end_time": "15:00"},
    )
    assert others.status_code == 201
    mine = (await client.get("/api/reservations/mine", headers=people["hanako"])).json()
    assert [(m["reservation_id"], m["role"]) for m in mine] == [
        (invited, "attendee"),
        (own.json()["reservation_id"], "owner"),
    ]
    assert mine[0]["title"] == "Reorganisation"  # an attendee sees the private details


async def test_an_unknown_reservation_is_404_and_a_bad_id_422(
    client: httpx.AsyncClient, people: dict[str, dict[str, str]]
) -> None:
    missing = await client.get("/api/reservations/999999", headers=people["taro"])
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "reservation_not_found"
    for bad in ("abc", "0", str(2**63)):
        response = await client.get(f"/api/reservations/{bad}", headers=people["taro"])
        assert response.status_code == 422, bad


async def test_the_idempotent_path_takes_the_meeting_fields_as_part_of_the_request(
    client: httpx.AsyncClient,
    people: dict[str, dict[str, str]],
    make_room: RoomFactory,
    tomorrow: date,
) -> None:
    room = await make_room()
    headers = {**people["taro"], "Idempotency-Key": "meeting-1"}
    body = _booking(tomorrow, title="Retro", visibility="PRIVATE", attendees=["ken", "hanako"])
    first = await _reserve(client, room, headers, body)
    assert first.status_code == 201, first.text
    assert first.json()["title"] == "Retro"
    assert [a["user_id"] for a in first.json()["attendees"]] == ["hanako", "ken"]
    # The same request (attendees in another order) is a retry: the first answer again.
    retry = await _reserve(client, room, headers, {**body, "attendees": ["hanako", "ken"]})
    assert retry.status_code == 201
    assert retry.headers.get("idempotent-replayed") == "true"
    assert retry.json() == first.json()
    # Another title with the same key is another request.
    other = await _reserve(client, room, headers, {**body, "title": "Planning"})
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    unknown = await _reserve(
        client,
        room,
        {**people["taro"], "Idempotency-Key": "meeting-2"},
        _booking(tomorrow, attendees=["nobody"]),
    )
    assert unknown.status_code == 422
    assert unknown.json()["error"]["code"] == "unknown_attendees"


def test_a_request_without_meeting_fields_keeps_its_fingerprint() -> None:
    day = date(2030, 1, 8)
    seed = rules.request_fingerprint(room_id=1, day=day, start_minute=600, end_minute=660)
    import hashlib

    assert seed == hashlib.sha256(b"1|2030-01-08|600|660").hexdigest()
    titled = rules.request_fingerprint(
        room_id=1, day=day, start_minute=600, end_minute=660, title="Retro"
    )
    assert titled != seed


def test_attendee_ids_are_normalised_deduplicated_and_leave_the_owner_out() -> None:
    assert rules.attendee_ids([" Ken ", "hanako", "ken", "taro"], owner_id="taro") == [
        "ken",
        "hanako",
    ]


# --- the attendees type-ahead ---


async def test_lookup_finds_active_users_by_the_start_of_id_name_or_email(
    client: httpx.AsyncClient,
    people: dict[str, dict[str, str]],
    make_user: UserFactory,
) -> None:
    await make_user("hanaoff", status=UserStatus.DISABLED)
    for query in ("HANA", "sato", "Hanako", "hanako@ex", "Sato Han"):
        response = await client.get(
            "/api/users/lookup", params={"q": query}, headers=people["taro"]
        )
        assert response.status_code == 200, response.text
        assert response.json() == [{"user_id": "hanako", "display_name": "Hanako Sato"}], query
    japanese = await client.get(
        "/api/users/lookup",
        params={"q": "ken"},
        headers={**people["taro"], "Accept-Language": "ja"},
    )
    assert japanese.json() == [{"user_id": "ken", "display_name": "Ito Ken"}]
    # Starts with, not contains; never the email.
    assert (
        await client.get("/api/users/lookup", params={"q": "anako"}, headers=people["taro"])
    ).json() == []
    assert "email" not in str(
        (await client.get("/api/users/lookup", params={"q": "t"}, headers=people["taro"])).json()
    )


async def test_lookup_gives_at_most_ten_and_needs_a_query_and_a_login(
    client: httpx.AsyncClient, people: dict[str, dict[str, str]], make_user: UserFactory
) -> None:
    for n in range(12):
        await make_user(f"zed{n:02d}")
    response = await client.get("/api/users/lookup", params={"q": "zed"}, headers=people["taro"])
    assert [u["user_id"] for u in response.json()] == [f"zed{n:02d}" for n in range(10)]
    empty = await client.get("/api/users/lookup", params={"q": ""}, headers=people["taro"])
    assert empty.status_code == 422
    assert empty.json()["error"]["details"][0]["field"] == "q"
    assert (
        await client.get("/api/users/lookup", params={"q": "%"}, headers=people["taro"])
    ).json() == []
    anonymous = await client.get("/api/users/lookup", params={"q": "zed"})
    assert anonymous.status_code == 401
