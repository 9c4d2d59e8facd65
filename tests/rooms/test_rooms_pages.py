"""The room pages: administrators describe rooms (description, equipment, opening rule),
keep the equipment list and the closure days; everyone sees what a room offers and
is offered only its bookable hours. Driven over HTTP as a browser posts its forms, in
English and Japanese, on PostgreSQL and SQLite.

The app's clock is pinned to Monday 2030-01-07 09:00 in Tokyo (tests/conftest.py).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from babel.messages.pofile import read_po

from mrs.accounts.models import Role
from mrs.i18n import LOCALE_DIR
from mrs.reservations.timelines import TakenTime
from mrs.rooms import equipment as rooms_equipment
from mrs.rooms import service as rooms_service
from mrs.settings import Settings
from mrs.web.slots import bookable_span, day_slots, offered_times, timeline_cells
from tests.conftest import (
    DEFAULT_PASSWORD,
    PINNED_NOW,
    RoomFactory,
    UserFactory,
    browser_like_client,
)

JA = {"accept-language": "ja"}
MONDAY_TO_FRIDAY = ["1", "2", "3", "4", "5"]


@pytest.fixture(params=["postgresql", "sqlite"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    url = request.getfixturevalue("database_url" if request.param == "postgresql" else "sqlite_url")
    return Settings(
        data_dir=tmp_path / "data",
        database_url=url,
        secret_key="test-secret-key-0123456789-0123456789-0123456789",
    )


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with browser_like_client(app) as http:
        yield http


Login = Callable[..., Awaitable[str]]


@pytest.fixture
def log_in(client: httpx.AsyncClient, make_user: UserFactory) -> Login:
    """Create a user and log in through the login form (the client keeps the cookie)."""

    async def factory(user_id: str | None = None, *, role: Role = Role.USER) -> str:
        uid = await make_user(user_id, role=role)
        client.cookies.clear()
        response = await client.post("/login", data={"user_id": uid, "password": DEFAULT_PASSWORD})
        assert response.status_code == 303, response.text
        return uid

    return factory


@pytest.fixture
async def equipment(app: Any) -> None:
    """The list most tests start from."""
    for code, en, ja in (
        ("projector", "Projector", "プロジェクター"),
        ("whiteboard", "Whiteboard", "ホワイトボード"),
        ("phone", "Phone", "電話"),
    ):
        await rooms_equipment.create_equipment(
            app.state.db, code=code, name_en=en, name_ja=ja, now=PINNED_NOW
        )


def _text(html: str) -> str:
    """The visible text of a page, whitespace collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _options(html: str, select_id: str) -> list[str]:
    match = re.search(rf'<select id="{select_id}"[^>]*>(.*?)</select>', html, re.DOTALL)
    assert match is not None, select_id
    return [value for value in re.findall(r'<option value="([^"]*)"', match.group(1)) if value]


def _selected(html: str, select_id: str) -> str | None:
    match = re.search(rf'<select id="{select_id}"[^>]*>(.*?)</select>', html, re.DOTALL)
    assert match is not None, select_id
    chosen = re.search(r'<option value="([^"]*)" selected>', match.group(1))
    return chosen.group(1) if chosen else None


def _checked(html: str, name: str) -> list[str]:
    return re.findall(rf'name="{name}" value="([^"]+)" checked', html)


def _room_form(**changes: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "room_name": "Kaede",
        "capacity": "8",
        "location": "4F East",
        "description": "Corner room with a view.\nQuiet.",
        "equipment": ["projector", "whiteboard"],
        "open_weekdays": MONDAY_TO_FRIDAY,
        "start_time": "09:00",
        "end_time": "18:00",
        "auto_open": "on",
        "closed_on_holidays": "on",
    }
    form.update(changes)
    return {key: value for key, value in form.items() if value is not None}


async def _set_hours(app: Any, room_id: int, start: int, end: int) -> None:
    await rooms_service.update_room(
        app.state.db,
        room_id=room_id,
        changes={"opening": {"open_minute": start, "close_minute": end}},
        slot_minutes=30,
    )


# --- the slot grid within bookable hours (pure) ---


def test_bookable_hours_are_rounded_inwards_to_slot_boundaries() -> None:
    assert bookable_span(9 * 60, 18 * 60, 30) == (540, 1080)
    assert bookable_span(9 * 60 + 15, 18 * 60 + 15, 30) == (570, 1080)
    assert bookable_span(9 * 60 + 5, 9 * 60 + 25, 30) == (545, 545)  # nothing left


def test_only_times_within_the_bookable_hours_are_offered() -> None:
    starts, ends = offered_times(
        slot_minutes=60, first_minute=0, last_minute=1440, gone_until=0, bookable=(540, 720)
    )
    assert starts == [540, 600, 660]
    assert ends == [600, 660, 720]


def test_slots_outside_the_hours_are_closed_and_never_free() -> None:
    nothing_taken: list[TakenTime] = []
    slots = day_slots(
        nothing_taken,
        slot_minutes=60,
        first_minute=480,
        last_minute=660,
        gone_until=0,
        bookable=(540, 600),
    )
    assert [(slot.start, slot.closed, slot.free) for slot in slots] == [
        (480, True, False),
        (540, False, True),
        (600, True, False),
    ]
    cells = timeline_cells(
        [], slot_minutes=60, first_minute=480, last_minute=660, gone_until=0, bookable=(540, 600)
    )
    assert cells == [(480, "closed"), (540, "free"), (600, "closed")]


# --- admin: a room's description, equipment and opening rule ---


async def test_the_new_room_form_offers_the_equipment_and_the_sites_rule(
    client: httpx.AsyncClient, log_in: Login, equipment: None
) -> None:
    await log_in(role=Role.ADMIN)
    page = await client.get("/admin/rooms")
    assert page.status_code == 200
    text = _text(page.text)
    assert "Projector" in text
    assert "Whiteboard" in text
    assert _checked(page.text, "open_weekdays") == MONDAY_TO_FRIDAY
    assert _selected(page.text, "start_time") == "08:00"
    assert _selected(page.text, "end_time") == "20:00"
    # Every slot boundary of the day (30-minute slots), 00:00 to 24:00.
    assert _options(page.text, "start_time")[:3] == ["00:00", "00:30", "01:00"]
    assert _options(page.text, "end_time")[-1] == "24:00"
    assert (
        'id="auto_open" name="auto_open" type="checkbox" aria-describedby="auto_open-hint" checked'
        in page.text
    )
    japanese = await client.get("/admin/rooms", headers=JA)
    assert "プロジェクター" in japanese.text
    assert "開室ルール" in japanese.text


async def test_an_admin_creates_a_room_that_says_what_it_offers(
    app: Any, client: httpx.AsyncClient, log_in: Login, equipment: None, today: date
) -> None:
    await log_in(role=Role.ADMIN)
    created = await client.post("/admin/rooms", data=_room_form())
    assert created.status_code == 303, created.text
    location = created.headers["location"]
    assert location.endswith("?done=room_created_auto")
    room_id = int(location.split("?")[0].rsplit("/", 1)[1])
    room = await rooms_service.get_room(app.state.db, room_id=room_id)
    assert room.description == "Corner room with a view.\nQuiet."
    assert room.equipment == ["projector", "whiteboard"]
    assert sorted(room.opening.weekdays) == [1, 2, 3, 4, 5]
    assert (room.opening.open_minute, room.opening.close_minute) == (540, 1080)
    assert room.opening.auto_open
    assert room.opening.closed_on_holidays

    page = await client.get(location)
    assert "its dates were opened by its opening rule" in page.text
    assert await rooms_service.open_dates(
        app.state.db, room_id=room_id, from_date=today, to_date=today + timedelta(days=14)
    )
    assert _checked(page.text, "equipment") == ["projector", "whiteboard"]
    assert _selected(page.text, "start_time") == "09:00"
    assert "Corner room with a view." in page.text
    listed = await client.get("/admin/rooms")
    assert "09:00–18:00" in _text(listed.text)


async def test_an_admin_changes_a_rooms_equipment_hours_and_description(
    app: Any, client: httpx.AsyncClient, log_in: Login, make_room: RoomFactory, equipment: None
) -> None:
    room_id = await make_room("Hinoki")
    await log_in(role=Role.ADMIN)
    saved = await client.post(
        f"/admin/rooms/{room_id}",
        data=_room_form(
            room_name="Hinoki",
            active="on",
            equipment=["phone"],
            open_weekdays=["1", "3"],
            start_time="07:30",
            end_time="21:00",
            auto_open=None,
            closed_on_holidays=None,
            description="Small.",
        ),
    )
    assert saved.status_code == 303, saved.text
    room = await rooms_service.get_room(app.state.db, room_id=room_id)
    assert room.equipment == ["phone"]
    assert room.description == "Small."
    assert sorted(room.opening.weekdays) == [1, 3]
    assert (room.opening.open_minute, room.opening.close_minute) == (450, 1260)
    assert not room.opening.auto_open
    assert not room.opening.closed_on_holidays
    # Nothing ticked: the room offers nothing any more.
    cleared = await client.post(
        f"/admin/rooms/{room_id}", data=_room_form(room_name="Hinoki", active="on", equipment=None)
    )
    assert cleared.status_code == 303
    assert (await rooms_service.get_room(app.state.db, room_id=room_id)).equipment == []


@pytest.mark.parametrize(
    ("changes", "field", "status", "message"),
    [
        ({"open_weekdays": None}, "open_weekdays", 422, "Choose at least one weekday."),
        (
            {"start_time": "18:00", "end_time": "09:00"},
            "opening",
            422,
            "Bookable hours must start before they end",
        ),
        ({"start_time": "09:10"}, "opening", 422, "on 30-minute slot boundaries"),
        ({"end_time": "25:00"}, "end_time", 422, "This time does not exist; use 00:00 to 24:00."),
        ({"equipment": ["teleporter"]}, "equipment", 422, "Unknown equipment: teleporter."),
        ({"equipment": ["Not A Code"]}, "equipment.0", 422, ""),
        ({"room_name": ""}, "room_name", 422, ""),
    ],
)
async def test_a_refused_room_form_says_why_next_to_the_field(
    client: httpx.AsyncClient,
    log_in: Login,
    equipment: None,
    changes: dict[str, Any],
    field: str,
    status: int,
    message: str,
) -> None:
    await log_in(role=Role.ADMIN)
    refused = await client.post("/admin/rooms", data=_room_form(**changes))
    assert refused.status_code == status
    if field != "equipment.0":
        assert f'id="{field}-error"' in refused.text
    assert message in refused.text
    assert "Corner room with a view." in refused.text  # what was typed is kept


async def test_refusals_on_the_room_form_are_in_japanese(
    client: httpx.AsyncClient, log_in: Login, make_room: RoomFactory, equipment: None
) -> None:
    await make_room("Sakura")
    await log_in(role=Role.ADMIN)
    taken = await client.post("/admin/rooms", data=_room_form(room_name="Sakura"), headers=JA)
    assert taken.status_code == 409
    assert 'id="room_name-error"' in taken.text
    assert "Sakura" in taken.text
    assert "A room named" not in taken.text
    no_day = await client.post("/admin/rooms", data=_room_form(open_weekdays=None), headers=JA)
    assert no_day.status_code == 422
    assert "Choose at least one weekday." not in no_day.text
    assert 'id="open_weekdays-error"' in no_day.text


# --- admin: the equipment list ---


async def test_an_admin_keeps_the_equipment_list(
    app: Any, client: httpx.AsyncClient, log_in: Login, make_room: RoomFactory, equipment: None
) -> None:
    room_id = await make_room("Matsu")
    await rooms_service.update_room(app.state.db, room_id=room_id, changes={"equipment": ["phone"]})
    await log_in(role=Role.ADMIN)
    listed = await client.get("/admin/equipment")
    assert listed.status_code == 200
    assert 'href="/admin/equipment/projector"' in listed.text

    added = await client.post(
        "/admin/equipment",
        data={"code": "video-conference", "name_en": "Video conference", "name_ja": "ビデオ会議"},
    )
    assert added.status_code == 303
    assert added.headers["location"] == "/admin/equipment?done=equipment_added"
    after = await client.get(added.headers["location"])
    assert "The equipment was added to the list." in after.text
    assert "ビデオ会議" in after.text

    renamed = await client.post(
        "/admin/equipment/projector", data={"name_en": "Beamer", "name_ja": "プロジェクター"}
    )
    assert renamed.status_code == 303
    assert "Beamer" in (await client.get("/admin/equipment")).text

    confirm = await client.get("/admin/equipment/phone/delete")
    assert confirm.status_code == 200
    assert "Delete Phone?" in confirm.text
    assert f'href="/admin/rooms/{room_id}"' in confirm.text  # the room that loses it
    assert 'action="/admin/equipment/phone/delete"' in confirm.text
    deleted = await client.post("/admin/equipment/phone/delete")
    assert deleted.status_code == 303
    assert deleted.headers["location"] == "/admin/equipment?done=equipment_deleted"
    assert "/admin/equipment/phone" not in (await client.get("/admin/equipment")).text
    assert (await rooms_service.get_room(app.state.db, room_id=room_id)).equipment == []


async def test_equipment_form_refusals_are_next_to_their_fields(
    client: httpx.AsyncClient, log_in: Login, equipment: None
) -> None:
    await log_in(role=Role.ADMIN)
    taken = await client.post(
        "/admin/equipment", data={"code": "projector", "name_en": "P", "name_ja": "P"}
    )
    assert taken.status_code == 409
    assert 'id="code-error"' in taken.text
    assert "Equipment with the code projector already exists." in taken.text
    bad_code = await client.post(
        "/admin/equipment",
        data={"code": "Big Screen", "name_en": "Big screen", "name_ja": ""},
        headers=JA,
    )
    assert bad_code.status_code == 422
    assert 'id="code-error"' in bad_code.text
    assert 'id="name_ja-error"' in bad_code.text
    assert 'value="Big Screen"' in bad_code.text
    empty_name = await client.post(
        "/admin/equipment/projector", data={"name_en": "", "name_ja": "プロジェクター"}
    )
    assert empty_name.status_code == 422
    assert 'id="name_en-error"' in empty_name.text
    assert (await client.get("/admin/equipment/nothing-here")).status_code == 404
    assert (await client.post("/admin/equipment/nothing-here/delete")).status_code == 404
    assert (await client.get("/admin/equipment/NOT_A_CODE")).status_code == 422


async def test_the_equipment_pages_are_in_japanese(
    client: httpx.AsyncClient, log_in: Login, equipment: None
) -> None:
    await log_in(role=Role.ADMIN)
    listed = await client.get("/admin/equipment", headers=JA)
    assert "<h1>設備</h1>" in listed.text
    confirm = await client.get("/admin/equipment/phone/delete", headers=JA)
    assert "電話" in confirm.text
    assert "Delete" not in _text(confirm.text)


# --- admin: closure days ---


async def test_an_admin_adds_and_removes_a_closure_day(
    client: httpx.AsyncClient, log_in: Login, make_room: RoomFactory
) -> None:
    room_id = await make_room("Tsubaki")
    await log_in(role=Role.ADMIN)
    empty = await client.get("/admin/closure-days")
    assert "There are no upcoming closure days." in empty.text
    added = await client.post(
        "/admin/closure-days", data={"date": "2030-01-10", "label": "Founding day"}
    )
    assert added.status_code == 303
    assert added.headers["location"] == "/admin/closure-days?done=closure_added"
    listed = await client.get(added.headers["location"])
    assert "Every room is closed on that date." in listed.text
    assert "Thu 10 Jan 2030" in _text(listed.text)
    assert "Founding day" in listed.text
    # The room is closed that day, open the day before.
    assert (
        f'href="/rooms/{room_id}?date=2030-01-10"'
        not in (await client.get("/rooms?date=2030-01-10")).text
    )
    assert (
        f'href="/rooms/{room_id}?date=2030-01-09"'
        in (await client.get("/rooms?date=2030-01-09")).text
    )

    again = await client.post("/admin/closure-days", data={"date": "2030-01-10", "label": "Again"})
    assert again.status_code == 409
    assert 'id="date-error"' in again.text
    assert 'value="Again"' in again.text

    removed = await client.post("/admin/closure-days/2030-01-10/delete")
    assert removed.status_code == 303
    after = await client.get(removed.headers["location"])
    assert "Founding day" not in after.text
    assert "until opened by hand" in after.text
    gone = await client.post("/admin/closure-days/2030-01-10/delete")
    assert gone.status_code == 404
    assert "is not a closure day." in gone.text


async def test_a_closure_day_with_reservations_in_the_way_lists_them(
    client: httpx.AsyncClient, log_in: Login, make_room: RoomFactory
) -> None:
    room_id = await make_room("Kiri")
    await log_in("booker1")
    booked = await client.post(
        f"/rooms/{room_id}/reservations",
        data={"date": "2030-01-08", "start_time": "10:00", "end_time": "11:00"},
    )
    assert booked.status_code == 303
    await log_in(role=Role.ADMIN)
    refused = await client.post(
        "/admin/closure-days", data={"date": "2030-01-08", "label": "Inventory"}, headers=JA
    )
    assert refused.status_code == 409
    assert f'href="/rooms/{room_id}?date=2030-01-08"' in refused.text
    assert "Kiri" in refused.text
    assert "(booker1)" in refused.text
    assert 'value="Inventory"' in refused.text
    assert "有効な予約が 1 件ある" in refused.text
    assert "/reservations/" in refused.text
    assert "/cancel?next=/admin/closure-days" in refused.text


async def test_closure_day_form_refusals_are_next_to_their_fields(
    client: httpx.AsyncClient, log_in: Login
) -> None:
    await log_in(role=Role.ADMIN)
    refused = await client.post("/admin/closure-days", data={"date": "2030-02-30", "label": ""})
    assert refused.status_code == 422
    assert 'id="date-error"' in refused.text
    assert 'id="label-error"' in refused.text
    japanese = await client.get("/admin/closure-days", headers=JA)
    assert "<h1>休業日</h1>" in japanese.text
    assert (await client.post("/admin/closure-days/someday/delete")).status_code == 422


async def test_only_admins_see_and_open_the_new_pages(
    client: httpx.AsyncClient, log_in: Login
) -> None:
    await log_in()
    rooms = await client.get("/rooms")
    assert 'href="/admin/equipment"' not in rooms.text
    for path in ("/admin/equipment", "/admin/closure-days", "/admin/equipment/phone/delete"):
        assert (await client.get(path)).status_code == 403
    assert (
        await client.post("/admin/closure-days", data={"date": "2030-01-10", "label": "X"})
    ).status_code == 403
    await log_in(role=Role.ADMIN)
    nav = (await client.get("/rooms")).text
    assert 'href="/admin/equipment"' in nav
    assert 'href="/admin/closure-days"' in nav


# --- everyone: what a room offers, and only its bookable hours ---


async def test_the_rooms_page_shows_what_each_room_offers(
    app: Any, client: httpx.AsyncClient, log_in: Login, make_room: RoomFactory, equipment: None
) -> None:
    room_id = await make_room("Kusu", capacity=12)
    await rooms_service.update_room(
        app.state.db,
        room_id=room_id,
        changes={"description": "Big table, daylight.", "equipment": ["projector", "phone"]},
    )
    await _set_hours(app, room_id, 9 * 60, 18 * 60)
    await log_in()
    english = _text((await client.get("/rooms?date=2030-01-08")).text)
    assert "12 seats" in english
    assert "1F" in english
    assert "Bookable 09:00–18:00" in english
    assert "Big table, daylight." in english
    assert "Projector" in english
    assert "Phone" in english
    japanese = _text((await client.get("/rooms?date=2030-01-08", headers=JA)).text)
    assert "プロジェクター" in japanese
    assert "電話" in japanese
    assert "Projector" not in japanese
    day = _text((await client.get(f"/rooms/{room_id}?date=2030-01-08", headers=JA)).text)
    assert "Big table, daylight." in day
    assert "プロジェクター" in day
    assert "09:00–18:00" in day


async def test_a_rooms_day_offers_only_its_bookable_hours(
    app: Any, client: httpx.AsyncClient, log_in: Login, make_room: RoomFactory
) -> None:
    room_id = await make_room("Nara")
    await _set_hours(app, room_id, 10 * 60, 13 * 60)
    await log_in()
    page = await client.get(f"/rooms/{room_id}?date=2030-01-08")
    assert _options(page.text, "start_time") == [
        "10:00",
        "10:30",
        "11:00",
        "11:30",
        "12:00",
        "12:30",
    ]
    assert _options(page.text, "end_time") == ["10:30", "11:00", "11:30", "12:00", "12:30", "13:00"]
    rows = re.findall(r'<th scope="row">(\d\d:\d\d)–', page.text)
    assert rows[0] == "10:00"
    assert rows[-1] == "12:30"
    # A time outside the hours typed anyway is refused next to the form, not a 5xx.
    refused = await client.post(
        f"/rooms/{room_id}/reservations",
        data={"date": "2030-01-08", "start_time": "08:00", "end_time": "09:00"},
    )
    assert refused.status_code == 422
    assert "can be booked only between 10:00 and 13:00" in refused.text


async def test_a_reservation_from_before_the_hours_changed_is_still_shown(
    app: Any, client: httpx.AsyncClient, log_in: Login, make_room: RoomFactory
) -> None:
    room_id = await make_room("Kaki")
    await log_in("early")
    booked = await client.post(
        f"/rooms/{room_id}/reservations",
        data={"date": "2030-01-08", "start_time": "07:00", "end_time": "08:00"},
    )
    assert booked.status_code == 303
    await _set_hours(app, room_id, 9 * 60, 12 * 60)
    page = await client.get(f"/rooms/{room_id}?date=2030-01-08")
    text = _text(page.text)
    assert "07:00–07:30 Reserved by you" in text
    assert "08:00–08:30 Outside bookable hours" in text
    assert _options(page.text, "start_time")[0] == "09:00"
    rooms = await client.get("/rooms?date=2030-01-08")
    assert '<i class="c' in rooms.text  # the bar marks the hours it cannot be booked


async def test_the_grid_starts_when_the_room_opens_even_before_the_usual_hours(
    app: Any, client: httpx.AsyncClient, log_in: Login, make_room: RoomFactory, clock: Any
) -> None:
    clock.now = datetime(2030, 1, 7, 6, 0, tzinfo=PINNED_NOW.tzinfo)
    room_id = await make_room("Ume")
    await _set_hours(app, room_id, 7 * 60, 22 * 60)
    await log_in()
    page = await client.get(f"/rooms/{room_id}?date={(clock.now + timedelta(days=1)).date()}")
    assert _options(page.text, "start_time")[0] == "07:00"
    assert _options(page.text, "end_time")[-1] == "22:00"


def test_the_room_pages_translations_keep_their_placeholders() -> None:
    with (LOCALE_DIR / "ja" / "LC_MESSAGES" / "room_pages.po").open("rb") as handle:
        catalog = read_po(handle, locale="ja")
    wrong = [
        message.id
        for message in catalog
        if message.id
        and set(re.findall(r"{(\w+)}", str(message.id)))
        != set(re.findall(r"{(\w+)}", str(message.string)))
    ]
    assert wrong == []
