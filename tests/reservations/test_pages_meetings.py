"""The meeting pages over HTTP without a browser (the browser stories are in
tests/e2e/test_meetings_story.py): the booking form's meeting fields, a reservation's
page as each reader may see it, the edit form, and my reservations as organiser or
attendee; every form path including its refusals, in English and Japanese, on
PostgreSQL and SQLite.

The app's clock is pinned to Monday 2030-01-07 09:00 in Tokyo (tests/conftest.py); users
from `make_user` are called "Test <Id>" (family name <Id>)."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from mrs.accounts.models import Role
from mrs.accounts.session_cookie import SESSION_COOKIE
from mrs.http.dependencies import LOCALE_COOKIE
from mrs.notifications.models import OutboxMail
from mrs.reservations.models import Reservation
from tests.conftest import DEFAULT_PASSWORD, RoomFactory, UserFactory, browser_like_client
from tests.mail import run_invitation_job
from tests.reservations.conftest import MeetingFactory

pytestmark = pytest.mark.both_databases

PageLogin = Callable[..., Awaitable[None]]


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with browser_like_client(app) as http:
        yield http


@pytest.fixture
def page_login(client: httpx.AsyncClient) -> PageLogin:
    """Log in through the login form, reading the pages in `language`."""

    async def factory(user_id: str, *, language: str = "en") -> None:
        client.cookies.clear()
        client.cookies.set(LOCALE_COOKIE, language)
        response = await client.post(
            "/login", data={"user_id": user_id, "password": DEFAULT_PASSWORD}
        )
        assert response.status_code == 303, response.text
        assert SESSION_COOKIE in client.cookies

    return factory


def _text(page: str) -> str:
    """The visible text of a page, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def _field_error(page: str, name: str) -> str:
    found = re.search(rf'<p class="field-error" id="{re.escape(name)}-error">(.*?)</p>', page)
    assert found is not None, f"no message next to {name}"
    return html.unescape(found.group(1))


def _form_error(page: str) -> str:
    found = re.search(r'<p class="notice error" role="alert">(.*?)</p>', page, re.DOTALL)
    assert found is not None, "no message on top of the form"
    return html.unescape(found.group(1))


def _booking(day: date, start: str, end: str, **meeting: str) -> dict[str, str]:
    return {"date": day.isoformat(), "start_time": start, "end_time": end, **meeting}


async def _book(
    client: httpx.AsyncClient, room_id: int, day: date, start: str, end: str, **meeting: str
) -> httpx.Response:
    return await client.post(
        f"/rooms/{room_id}/reservations", data=_booking(day, start, end, **meeting)
    )


async def _only_reservation_id(app: Any) -> int:
    async with app.state.db.snapshot() as session:
        return int((await session.scalars(select(Reservation.reservation_id))).one())


async def _edit_form(client: httpx.AsyncClient, reservation_id: int) -> dict[str, str]:
    """The edit form's fields as the page fills them."""
    page = await client.get(f"/reservations/{reservation_id}/edit")
    assert page.status_code == 200, page.text[:1000]
    fields = dict(re.findall(r'<input[^>]* name="(\w+)"[^>]* value="([^"]*)"', page.text))
    fields.update(re.findall(r'<textarea[^>]* name="(\w+)"[^>]*>([^<]*)</textarea>', page.text))
    for name, options in re.findall(
        r'<select[^>]* name="(\w+)"[^>]*>(.*?)</select>', page.text, flags=re.S
    ):
        selected = re.search(r'<option value="([^"]*)" selected>', options)
        assert selected is not None, name
        fields[name] = selected.group(1)
    checked = re.search(r'name="visibility" type="radio" value="(\w+)" checked', page.text)
    assert checked is not None
    fields["visibility"] = checked.group(1)
    fields.pop("csrf_token", None)
    return {name: html.unescape(value) for name, value in fields.items()}


# --- the booking form ---


@pytest.mark.parametrize(
    ("language", "reserved"), [("en", "Reserved"), ("ja", "予約済み")], ids=["en", "ja"]
)
async def test_a_meeting_is_booked_with_its_title_and_attendees_and_shown_as_each_may_see(
    app: Any,
    client: httpx.AsyncClient,
    page_login: PageLogin,
    make_user: UserFactory,
    make_room: RoomFactory,
    tomorrow: date,
    language: str,
    reserved: str,
) -> None:
    room_id = await make_room("Sakura")
    for user_id in ("alice", "bob", "carol", "dave"):
        await make_user(user_id)
    await page_login("alice", language=language)
    done = await _book(
        client,
        room_id,
        tomorrow,
        "10:00",
        "11:00",
        title="Budget review",
        # Japanese text takes nine bytes a character as a form sends it.
        description="Q3 numbers " + "予算" * 900,
        visibility="PRIVATE",
        attendees="bob, carol",
    )
    assert done.status_code == 303, done.text[:2000]
    assert done.headers["location"] == f"/rooms/{room_id}?date={tomorrow.isoformat()}&done=reserved"
    reservation_id = await _only_reservation_id(app)
    day_url = f"/rooms/{room_id}?date={tomorrow.isoformat()}"

    own_day = await client.get(day_url)
    assert f'<a class="meeting-link" href="/reservations/{reservation_id}">Budget review</a>' in (
        own_day.text
    )
    page = _text((await client.get(f"/reservations/{reservation_id}")).text)
    assert "Budget review" in page
    assert "Q3 numbers" in page
    # Names in the reader's order: family name first in Japanese.
    expected_bob = "Bob Test (bob)" if language == "ja" else "Test Bob (bob)"
    assert expected_bob in page

    await page_login("bob", language=language)  # an attendee sees it all
    assert "Budget review" in _text((await client.get(day_url)).text)
    assert "Q3 numbers" in _text((await client.get(f"/reservations/{reservation_id}")).text)

    await page_login("dave", language=language)  # anyone else: reserved, and by whom
    other_day = _text((await client.get(day_url)).text)
    assert "Budget review" not in other_day
    assert reserved in other_day
    other_page = await client.get(f"/reservations/{reservation_id}")
    assert other_page.status_code == 200
    assert "Budget review" not in other_page.text
    assert "Q3 numbers" not in other_page.text
    assert "/edit" not in other_page.text
    assert reserved in _text(other_page.text)


async def test_the_seed_booking_form_still_books_without_meeting_fields(
    client: httpx.AsyncClient,
    page_login: PageLogin,
    make_user: UserFactory,
    make_room: RoomFactory,
    tomorrow: date,
) -> None:
    room_id = await make_room()
    await page_login(await make_user("solo"))
    assert (await _book(client, room_id, tomorrow, "13:00", "14:00")).status_code == 303
    mine = _text((await client.get("/reservations")).text)
    assert "Test Solo" in mine  # no title: the owner's name


@pytest.mark.parametrize("language", ["en", "ja"])
async def test_the_booking_form_says_what_is_wrong_next_to_each_field(
    client: httpx.AsyncClient,
    page_login: PageLogin,
    make_user: UserFactory,
    make_room: RoomFactory,
    tomorrow: date,
    language: str,
) -> None:
    room_id = await make_room()
    await make_user("bob")
    await page_login(await make_user("alice"), language=language)
    unknown = await _book(
        client, room_id, tomorrow, "10:00", "11:00", title="Sync", attendees="bob, ghost"
    )
    assert unknown.status_code == 422
    message = _field_error(unknown.text, "attendees")
    assert "ghost" in message
    assert (
        "出席" in message or "参加者" in message or "ユーザー" in message
        if language == "ja"
        else "not active users" in message
    )
    # What was typed stays in the form.
    assert 'value="bob, ghost"' in unknown.text
    assert 'value="Sync"' in unknown.text

    long_title = await _book(client, room_id, tomorrow, "10:00", "11:00", title="x" * 201)
    assert long_title.status_code == 422
    assert _field_error(long_title.text, "title")
    long_text = await _book(client, room_id, tomorrow, "10:00", "11:00", description="y" * 2001)
    assert long_text.status_code == 422
    assert _field_error(long_text.text, "description")
    bad_visibility = await _book(client, room_id, tomorrow, "10:00", "11:00", visibility="SECRET")
    assert bad_visibility.status_code == 422
    assert _field_error(bad_visibility.text, "visibility")
    blank_attendee = await _book(client, room_id, tomorrow, "10:00", "11:00", attendees="x" * 65)
    assert blank_attendee.status_code == 422
    assert _field_error(blank_attendee.text, "attendees")
    # Nothing was booked by any of these.
    mine = await client.get("/reservations")
    assert "/edit" not in mine.text


@pytest.mark.parametrize("language", ["en", "ja"])
async def test_a_taken_time_names_the_meeting_in_the_way_as_the_reader_may_see_it(
    client: httpx.AsyncClient,
    page_login: PageLogin,
    make_user: UserFactory,
    make_room: RoomFactory,
    meeting: MeetingFactory,
    tomorrow: date,
    language: str,
) -> None:
    room_id = await make_room()
    hana = await make_user("hana")
    await meeting(hana, room_id, tomorrow, "10:00", "11:00", title="Design review")
    await meeting(hana, room_id, tomorrow, "14:00", "15:00", title="HR talk", visibility="PRIVATE")
    await page_login(await make_user("taro"), language=language)

    public = await _book(client, room_id, tomorrow, "10:30", "11:30")
    assert public.status_code == 409
    name = "Hana Test" if language == "ja" else "Test Hana"
    message = _form_error(public.text)
    assert "Design review" in message
    assert name in message
    assert "10:00" in message
    assert "11:00" in message

    private = await _book(client, room_id, tomorrow, "14:30", "15:30")
    assert private.status_code == 409
    message = _form_error(private.text)
    assert "HR talk" not in message
    assert name in message
    assert "14:00" in message


async def test_start_and_end_from_the_search_and_timeline_preselect_the_slot(
    client: httpx.AsyncClient,
    page_login: PageLogin,
    make_user: UserFactory,
    make_room: RoomFactory,
    tomorrow: date,
) -> None:
    room_id = await make_room()
    await page_login(await make_user())
    page = await client.get(f"/rooms/{room_id}?date={tomorrow.isoformat()}&start=10:00&end=11:30")
    assert page.status_code == 200
    assert re.search(r'id="start_time".*?<option value="10:00" selected>', page.text, re.DOTALL)
    assert re.search(r'id="end_time".*?<option value="11:30" selected>', page.text, re.DOTALL)
    # The meeting fields are there, the attendees field ready for the type-ahead.
    for name in ("title", "description", "attendees"):
        assert f'name="{name}"' in page.text
    assert 'data-user-lookup="/api/users/lookup"' in page.text
    assert 'role="listbox"' in page.text
    assert "<script>" not in page.text


# --- my reservations ---


@pytest.mark.parametrize(
    ("language", "attend", "organised"),
    [("en", "You attend", "Organised by Test Alice"), ("ja", "参加予定", "主催：Alice Test")],
    ids=["en", "ja"],
)
async def test_my_reservations_show_meetings_i_attend_marked_with_their_organiser(
    client: httpx.AsyncClient,
    page_login: PageLogin,
    make_user: UserFactory,
    make_room: RoomFactory,
    meeting: MeetingFactory,
    tomorrow: date,
    language: str,
    attend: str,
    organised: str,
) -> None:
    room_id = await make_room()
    alice, bob = await make_user("alice"), await make_user("bob")
    attended = await meeting(
        alice, room_id, tomorrow, "10:00", "11:00", title="Kick-off", attendees=(bob,)
    )
    own = await meeting(bob, room_id, tomorrow, "13:00", "14:00", title="Bob's own")
    await page_login(bob, language=language)
    page = await client.get("/reservations")
    text = _text(page.text)
    assert "Kick-off" in text
    assert attend in text
    assert organised in text
    assert "Bob's own" in text
    # Only what I organise has my change and cancel buttons.
    assert f"/reservations/{own}/cancel" in page.text
    assert f"/reservations/{own}/edit" in page.text
    assert f"/reservations/{attended}/cancel" not in page.text
    assert f"/reservations/{attended}/edit" not in page.text
    # My week lists it as well.
    week = _text((await client.get(f"/my/week?date={tomorrow.isoformat()}")).text)
    assert "Kick-off" in week


# --- a reservation's page ---


async def test_the_reservation_page_offers_change_and_cancel_to_the_owner_and_admins(
    client: httpx.AsyncClient,
    page_login: PageLogin,
    make_user: UserFactory,
    make_room: RoomFactory,
    meeting: MeetingFactory,
    tomorrow: date,
) -> None:
    room_id = await make_room()
    owner = await make_user("owner")
    reservation_id = await meeting(
        owner, room_id, tomorrow, "10:00", "11:00", title="Plan", visibility="PRIVATE"
    )
    url = f"/reservations/{reservation_id}"
    for reader, offered in ((owner, True), (await make_user(role=Role.ADMIN), True)):
        await page_login(reader)
        page = await client.get(url)
        assert ("Plan" in page.text, f"{url}/edit" in page.text) == (True, offered)
        assert f"{url}/cancel" in page.text
    await page_login(await make_user("stranger"))
    page = await client.get(url)
    assert f"{url}/edit" not in page.text
    assert f"{url}/cancel" not in page.text
    missing = await client.get("/reservations/999999")
    assert missing.status_code == 404
    not_a_number = await client.get("/reservations/abc")
    assert not_a_number.status_code in (404, 422)


# --- the edit form ---


@pytest.mark.parametrize("language", ["en", "ja"])
async def test_the_owner_moves_and_changes_a_meeting_with_the_edit_form(
    client: httpx.AsyncClient,
    page_login: PageLogin,
    make_user: UserFactory,
    make_room: RoomFactory,
    meeting: MeetingFactory,
    tomorrow: date,
    language: str,
) -> None:
    sakura, fuji = await make_room("Sakura"), await make_room("Fuji")
    alice = await make_user("alice")
    await make_user("bob")
    reservation_id = await meeting(alice, sakura, tomorrow, "10:00", "11:00", title="Standup")
    await page_login(alice, language=language)
    form = await _edit_form(client, reservation_id)
    assert form["version"] == "1"
    assert (form["date"], form["start_time"], form["end_time"]) == (
        tomorrow.isoformat(),
        "10:00",
        "11:00",
    )
    assert (form["room_id"], form["title"], form["visibility"]) == (
        str(sakura),
        "Standup",
        "PUBLIC",
    )

    form.update(
        start_time="15:00",
        end_time="16:30",
        room_id=str(fuji),
        title="Standup (moved)",
        attendees="bob",
    )
    done = await client.post(f"/reservations/{reservation_id}/edit", data=form)
    assert done.status_code == 303, done.text[:2000]
    assert done.headers["location"] == f"/reservations/{reservation_id}?done=changed"
    page = _text((await client.get(done.headers["location"])).text)
    assert ("予約を変更しました。" if language == "ja" else "The reservation was changed.") in page
    assert "Standup (moved)" in page
    assert "15:00–16:30" in page
    assert "Fuji" in page
    assert "(bob)" in page
    assert (await _edit_form(client, reservation_id))["version"] == "2"


@pytest.mark.parametrize(
    ("language", "words"),
    [("en", "changed by someone else"), ("ja", "他の人")],
    ids=["en", "ja"],
)
async def test_a_stale_edit_asks_to_reload_and_changes_nothing(
    app: Any,
    client: httpx.AsyncClient,
    page_login: PageLogin,
    make_user: UserFactory,
    make_room: RoomFactory,
    meeting: MeetingFactory,
    tomorrow: date,
    language: str,
    words: str,
) -> None:
    room_id = await make_room()
    alice = await make_user("alice")
    reservation_id = await meeting(alice, room_id, tomorrow, "10:00", "11:00", title="One")
    await page_login(alice, language=language)
    first_tab = await _edit_form(client, reservation_id)
    second_tab = dict(first_tab)
    first_tab["title"] = "Changed in the first tab"
    assert (
        await client.post(f"/reservations/{reservation_id}/edit", data=first_tab)
    ).status_code == 303
    second_tab["start_time"] = "12:00"
    second_tab["end_time"] = "13:00"
    stale = await client.post(f"/reservations/{reservation_id}/edit", data=second_tab)
    assert stale.status_code == 412
    assert words in _form_error(stale.text)
    assert f'href="/reservations/{reservation_id}/edit"' in stale.text  # reload
    async with app.state.db.snapshot() as session:
        row = (await session.execute(select(Reservation))).scalar_one()
    assert (row.start_minute, row.title, row.version) == (600, "Changed in the first tab", 2)


async def test_an_edit_into_a_taken_time_names_the_meeting_in_the_way_and_changes_nothing(
    app: Any,
    client: httpx.AsyncClient,
    page_login: PageLogin,
    make_user: UserFactory,
    make_room: RoomFactory,
    meeting: MeetingFactory,
    tomorrow: date,
) -> None:
    room_id = await make_room()
    alice, hana = await make_user("alice"), await make_user("hana")
    mine = await meeting(alice, room_id, tomorrow, "10:00", "11:00", title="Mine")
    await meeting(hana, room_id, tomorrow, "13:00", "14:00", title="Hana's review")
    await page_login(alice)
    form = await _edit_form(client, mine)
    form.update(start_time="13:30", end_time="14:30")
    taken = await client.post(f"/reservations/{mine}/edit", data=form)
    assert taken.status_code == 409
    message = _form_error(taken.text)
    assert "Hana's review" in message
    assert "Test Hana" in message
    assert "13:00" in message
    page = _text((await client.get(f"/reservations/{mine}")).text)
    assert "10:00–11:00" in page


@pytest.mark.parametrize("language", ["en", "ja"])
async def test_the_edit_form_says_what_is_wrong_next_to_each_field(
    client: httpx.AsyncClient,
    page_login: PageLogin,
    make_user: UserFactory,
    make_room: RoomFactory,
    meeting: MeetingFactory,
    tomorrow: date,
    language: str,
) -> None:
    room_id = await make_room()
    alice = await make_user("alice")
    reservation_id = await meeting(alice, room_id, tomorrow, "10:00", "11:00")
    await page_login(alice, language=language)
    form = await _edit_form(client, reservation_id)
    url = f"/reservations/{reservation_id}/edit"

    backwards = await client.post(url, data={**form, "start_time": "12:00", "end_time": "11:00"})
    assert backwards.status_code == 422
    assert _field_error(backwards.text, "end_time")
    assert 'value="12:00"' in backwards.text  # what was typed is shown again
    not_a_time = await client.post(url, data={**form, "start_time": "noon"})
    assert not_a_time.status_code == 422
    assert _field_error(not_a_time.text, "start_time")
    bad_date = await client.post(url, data={**form, "date": "2030-02-30"})
    assert bad_date.status_code == 422
    assert _field_error(bad_date.text, "date")
    no_room = await client.post(url, data={**form, "room_id": "0"})
    assert no_room.status_code == 422
    assert _field_error(no_room.text, "room_id")
    ghost = await client.post(url, data={**form, "attendees": "ghost"})
    assert ghost.status_code == 422
    assert "ghost" in _field_error(ghost.text, "attendees")
    in_the_past = await client.post(url, data={**form, "date": "2030-01-06"})
    assert in_the_past.status_code == 422
    assert _field_error(in_the_past.text, "start_time")
    tampered = await client.post(url, data={**form, "version": "one"})
    assert tampered.status_code == 422
    assert ("古くなっています" if language == "ja" else "out of date") in _form_error(tampered.text)


async def test_only_the_owner_and_administrators_may_change_a_reservation(
    client: httpx.AsyncClient,
    page_login: PageLogin,
    make_user: UserFactory,
    make_room: RoomFactory,
    meeting: MeetingFactory,
    tomorrow: date,
) -> None:
    room_id = await make_room()
    owner = await make_user("owner")
    reservation_id = await meeting(owner, room_id, tomorrow, "10:00", "11:00", title="Mine")
    await page_login(owner)
    form = await _edit_form(client, reservation_id)
    await page_login(await make_user("mallory"))
    assert (await client.get(f"/reservations/{reservation_id}/edit")).status_code == 403
    refused = await client.post(
        f"/reservations/{reservation_id}/edit", data={**form, "title": "Hijacked"}
    )
    assert refused.status_code == 403
    await page_login(owner)
    assert "Hijacked" not in (await client.get(f"/reservations/{reservation_id}")).text


@pytest.mark.parametrize("language", ["en", "ja"])
async def test_an_admin_moves_someones_meeting_giving_a_reason_mailed_to_the_owner(
    app: Any,
    client: httpx.AsyncClient,
    page_login: PageLogin,
    make_user: UserFactory,
    make_room: RoomFactory,
    meeting: MeetingFactory,
    tomorrow: date,
    language: str,
) -> None:
    room_id = await make_room("Kaede")
    owner = await make_user("taro")
    reservation_id = await meeting(owner, room_id, tomorrow, "10:00", "11:00", title="Team")
    await page_login(await make_user("boss", role=Role.ADMIN), language=language)
    page = await client.get(f"/reservations/{reservation_id}/edit")
    assert 'name="reason"' in page.text
    assert "Taro" in _text(page.text)  # whose reservation it is
    form = await _edit_form(client, reservation_id)
    too_long = await client.post(
        f"/reservations/{reservation_id}/edit", data={**form, "reason": "r" * 501}
    )
    assert too_long.status_code == 422
    assert _field_error(too_long.text, "reason")
    moved = await client.post(
        f"/reservations/{reservation_id}/edit",
        data={**form, "start_time": "16:00", "end_time": "17:00", "reason": "Board meeting"},
    )
    assert moved.status_code == 303
    await run_invitation_job(app)
    async with app.state.db.snapshot() as session:
        mails = (await session.scalars(select(OutboxMail))).all()
    [mail] = [m for m in mails if m.recipient == "taro@example.com" and "Board" in m.body]
    assert "Board meeting" in mail.body
    assert "16:00–17:00" in mail.body
