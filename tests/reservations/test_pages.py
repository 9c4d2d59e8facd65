"""The reservation pages, driven over HTTP without a browser: rooms by date, a room's day,
reserving, my reservations, cancelling, names and dates (the browser stories are in
tests/e2e).

The app's clock is pinned to Monday 2030-01-07 09:00 in Tokyo (tests/conftest.py).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import httpx
import pytest

from mrs.accounts import users
from mrs.accounts.models import Role, UserStatus
from mrs.notifications import service as notifications_service
from mrs.reservations import reads as reservations_reads
from mrs.rooms import service as rooms_service
from mrs.settings import Settings
from tests.conftest import (
    DEFAULT_PASSWORD,
    PINNED_NOW,
    PageLogin,
    RoomFactory,
    UserFactory,
    browser_like_client,
)
from tests.mail import SmtpReceiver, parts, run_invitation_job

HTML = {"accept": "text/html"}
ORIGIN = "http://testserver"


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """Pages are driven as a browser drives them: CSRF token and same-origin Origin."""
    async with browser_like_client(app, ORIGIN) as http:
        yield http


async def _reserve(
    client: httpx.AsyncClient, room_id: int, day: date, start: str, end: str
) -> httpx.Response:
    return await client.post(
        f"/rooms/{room_id}/reservations",
        data={"date": day.isoformat(), "start_time": start, "end_time": end, "csrf_token": ""},
    )


def _text(html: str) -> str:
    """The visible text of a page, whitespace collapsed (enough for assertions)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# --- rooms by date and a room's day ---


async def test_rooms_of_today_show_the_taken_slots_at_a_glance(
    client: httpx.AsyncClient,
    make_user: UserFactory,
    make_room: RoomFactory,
    page_login: PageLogin,
    tomorrow: date,
) -> None:
    room_id = await make_room("Sakura")
    await make_room("Fuji")
    await page_login(await make_user())
    assert (await _reserve(client, room_id, tomorrow, "10:00", "11:30")).status_code == 303

    today_page = await client.get("/rooms", headers={"accept-language": "ja"})
    assert today_page.status_code == 200
    assert "2030年1月7日(月) の会議室" in _text(today_page.text)
    day_page = await client.get(f"/rooms?date={tomorrow.isoformat()}")
    text = _text(day_page.text)
    assert "Rooms on Tue 8 Jan 2030" in text
    assert "Sakura" in text
    assert "Fuji" in text
    assert "Taken: 10:00–11:30" in text
    assert "Free all day" in text
    assert 'href="/rooms?date=2030-01-07" rel="prev"' in day_page.text
    assert 'href="/rooms?date=2030-01-09" rel="next"' in day_page.text
    timelines = re.findall(r'<div class="timeline" aria-hidden="true">(.*?)</div>', day_page.text)
    # Fuji is free; Sakura's 10:00-11:30 is three 30-minute cells.
    assert [bar.count('<i class="t') for bar in timelines] == [0, 3]


async def test_a_bad_date_is_explained_next_to_the_date_picker(
    client: httpx.AsyncClient, make_user: UserFactory, make_room: RoomFactory, page_login: PageLogin
) -> None:
    room_id = await make_room()
    await page_login(await make_user())
    response = await client.get("/rooms?date=2030-02-30")
    assert response.status_code == 422
    assert 'id="date-error"' in response.text
    assert "This date does not exist." in response.text
    for edge in ("0001-01-01", "9999-12-31"):
        at_the_edge = await client.get(f"/rooms?date={edge}")
        assert at_the_edge.status_code == 422
        assert "This date is out of range." in at_the_edge.text
        room_day = await client.get(f"/rooms/{room_id}?date={edge}")
        assert room_day.status_code == 422
        reserve = await _reserve(client, room_id, date.fromisoformat(edge), "10:00", "11:00")
        assert reserve.status_code in (404, 422)  # in the past, or not open that day


async def test_a_rooms_day_shows_who_holds_each_taken_slot(
    client: httpx.AsyncClient,
    make_user: UserFactory,
    make_room: RoomFactory,
    page_login: PageLogin,
    tomorrow: date,
) -> None:
    room_id = await make_room("Momiji")
    await page_login(await make_user("owner1"))
    await _reserve(client, room_id, tomorrow, "13:00", "14:00")
    client.cookies.clear()
    await page_login(await make_user("viewer1"))
    page = await client.get(f"/rooms/{room_id}?date={tomorrow.isoformat()}")
    text = _text(page.text)
    assert "13:00–13:30 Reserved by Test Owner1 (13:00–14:00)" in text
    assert "13:30–14:00 Reserved by Test Owner1" in text
    # Free slots link to the same page with the form filled in (no script needed).
    assert f'href="/rooms/{room_id}?date=2030-01-08&amp;start=14:00&amp;end=14:30#reserve"' in (
        page.text
    )
    picked = await client.get(f"/rooms/{room_id}?date=2030-01-08&start=14:00&end=14:30")
    assert '<option value="14:00" selected>' in picked.text
    assert '<option value="14:30" selected>' in picked.text


async def test_a_time_asked_outside_the_usual_hours_is_offered_in_the_form(
    client: httpx.AsyncClient, make_user: UserFactory, make_room: RoomFactory, page_login: PageLogin
) -> None:
    # The timeline spans the earliest hour any room opens, so it links an all-day room at
    # 06:00; the room's page must then offer 06:00, not fall back to its usual hours.
    room_id = await make_room()
    await page_login(await make_user())
    usual = await client.get(f"/rooms/{room_id}?date=2030-01-08")
    assert '<option value="06:00"' not in usual.text
    picked = await client.get(f"/rooms/{room_id}?date=2030-01-08&start=06:00&end=06:30")
    assert '<option value="06:00" selected>' in picked.text
    assert '<option value="06:30" selected>' in picked.text
    nonsense = await client.get(f"/rooms/{room_id}?date=2030-01-08&start=25:00&end=06:30")
    assert nonsense.status_code == 200
    assert '<option value="06:00"' not in nonsense.text


async def test_slots_of_today_before_now_are_past(
    client: httpx.AsyncClient, make_user: UserFactory, make_room: RoomFactory, page_login: PageLogin
) -> None:
    room_id = await make_room()
    await page_login(await make_user())
    text = _text((await client.get(f"/rooms/{room_id}")).text)
    assert "08:30–09:00 Past" in text
    assert "09:00–09:30 Free — choose 09:00" in text


async def test_a_closed_date_offers_no_form(
    client: httpx.AsyncClient, make_user: UserFactory, make_room: RoomFactory, page_login: PageLogin
) -> None:
    room_id = await make_room(days=1)
    await page_login(await make_user())
    page = await client.get(f"/rooms/{room_id}?date=2030-03-01")
    assert "This room cannot be reserved on this date." in page.text
    assert "data-reserve-form" not in page.text


# --- reserving ---


async def test_reserving_redirects_to_the_day_with_a_confirmation(
    client: httpx.AsyncClient,
    make_user: UserFactory,
    make_room: RoomFactory,
    page_login: PageLogin,
    tomorrow: date,
) -> None:
    room_id = await make_room()
    await page_login(await make_user())
    response = await _reserve(client, room_id, tomorrow, "10:00", "10:30")
    assert response.status_code == 303
    assert response.headers["location"] == f"/rooms/{room_id}?date=2030-01-08&done=reserved"
    page = await client.get(response.headers["location"])
    assert "Your reservation is confirmed." in page.text
    assert "10:00–10:30 Reserved by you" in _text(page.text)


async def test_a_room_out_of_use_is_refused_through_the_form_in_words(
    app: Any,
    client: httpx.AsyncClient,
    make_user: UserFactory,
    make_room: RoomFactory,
    page_login: PageLogin,
    tomorrow: date,
) -> None:
    room_id = await make_room()
    await rooms_service.update_room(app.state.db, room_id=room_id, changes={"active": False})
    await page_login(await make_user())
    page = await client.get(f"/rooms/{room_id}?date={tomorrow.isoformat()}")
    assert "data-reserve-form" not in page.text
    # A form rendered before the room was taken out of use, submitted after.
    response = await _reserve(client, room_id, tomorrow, "10:00", "10:30")
    assert response.status_code == 409
    assert f"Room {room_id} is out of use and cannot be reserved." in response.text
    japanese = await client.post(
        f"/rooms/{room_id}/reservations",
        data={"date": tomorrow.isoformat(), "start_time": "10:00", "end_time": "10:30"},
        headers={"accept-language": "ja"},
    )
    assert japanese.status_code == 409
    assert f"会議室 {room_id} は利用停止中のため予約できません。" in japanese.text
    assert (
        await reservations_reads.reservations_of_room_day(
            app.state.db, room_id=room_id, day=tomorrow
        )
        == []
    )


async def test_a_conflict_names_the_reservation_in_the_way_and_keeps_the_form(
    client: httpx.AsyncClient,
    make_user: UserFactory,
    make_room: RoomFactory,
    page_login: PageLogin,
    tomorrow: date,
) -> None:
    room_id = await make_room()
    await page_login(await make_user("first1"))
    await _reserve(client, room_id, tomorrow, "10:00", "11:00")
    client.cookies.clear()
    await page_login(await make_user("second1"))
    response = await _reserve(client, room_id, tomorrow, "10:30", "12:00")
    assert response.status_code == 409
    assert (
        "This time overlaps the reservation of Test First1 from 10:00 to 11:00. "
        "Choose another time." in response.text
    )
    assert '<option value="10:30" selected>' in response.text
    assert '<option value="12:00" selected>' in response.text

    japanese = await client.post(
        f"/rooms/{room_id}/reservations",
        data={"date": "2030-01-08", "start_time": "10:30", "end_time": "12:00"},
        headers={"accept-language": "ja"},
    )
    assert "First1 Test さんの予約（10:00–11:00）と重なっています" in japanese.text


@pytest.mark.parametrize(
    ("start", "end", "field", "message"),
    [
        ("10:00", "10:00", "end_time", "The end time must be after the start time."),
        ("10:00", "10:15", "end_time", "Times must fall on 30-minute slot boundaries"),
        ("", "10:30", "start_time", "Enter a time as HH:MM."),
        ("25:00", "26:00", "start_time", "This time does not exist"),
    ],
)
async def test_a_rejected_time_is_explained_next_to_its_field(
    client: httpx.AsyncClient,
    make_user: UserFactory,
    make_room: RoomFactory,
    page_login: PageLogin,
    tomorrow: date,
    start: str,
    end: str,
    field: str,
    message: str,
) -> None:
    room_id = await make_room()
    await page_login(await make_user())
    response = await _reserve(client, room_id, tomorrow, start, end)
    assert response.status_code == 422
    error = re.search(rf'<p class="field-error" id="{field}-error">([^<]*)</p>', response.text)
    assert error is not None, response.text
    assert message in error.group(1)
    assert f'aria-describedby="{field}-error"' in response.text


async def test_a_start_in_the_past_is_refused(
    client: httpx.AsyncClient,
    make_user: UserFactory,
    make_room: RoomFactory,
    page_login: PageLogin,
    today: date,
) -> None:
    room_id = await make_room()
    await page_login(await make_user())
    response = await _reserve(client, room_id, today, "08:00", "08:30")
    assert response.status_code == 422
    assert "The reservation would start in the past." in response.text


# --- my reservations ---


async def test_my_reservations_lists_upcoming_and_cancels(
    client: httpx.AsyncClient,
    make_user: UserFactory,
    make_room: RoomFactory,
    page_login: PageLogin,
    tomorrow: date,
) -> None:
    room_id = await make_room("Hinoki")
    await page_login(await make_user())
    await _reserve(client, room_id, tomorrow, "15:00", "16:00")
    page = await client.get("/reservations")
    text = _text(page.text)
    assert "Hinoki" in text
    assert "Tue 8 Jan 2030 15:00–16:00" in text
    assert "Reserved Mon 7 Jan 2030 09:00" in text  # made at the pinned now, site time
    japanese = _text((await client.get("/reservations", headers={"accept-language": "ja"})).text)
    assert "2030年1月8日(火) 15:00–16:00" in japanese
    assert "2030年1月7日(月) 09:00 に予約" in japanese
    reservation_id = re.search(r'href="/reservations/(\d+)/cancel"', page.text)
    assert reservation_id is not None

    cancelled = await client.post(
        f"/reservations/{reservation_id.group(1)}/cancel", data={"csrf_token": ""}
    )
    assert cancelled.status_code == 303
    assert cancelled.headers["location"] == "/reservations?done=cancelled"
    after = await client.get(cancelled.headers["location"])
    assert "The reservation was cancelled." in after.text
    assert "Cancelled" in after.text
    assert "/cancel" not in after.text
    again = await client.post(f"/reservations/{reservation_id.group(1)}/cancel")
    assert again.status_code == 409
    assert "This reservation has already been cancelled." in again.text


async def test_cancelling_someone_elses_reservation_is_refused_in_words(
    client: httpx.AsyncClient,
    make_user: UserFactory,
    make_room: RoomFactory,
    page_login: PageLogin,
    tomorrow: date,
) -> None:
    room_id = await make_room()
    await page_login(await make_user())
    await _reserve(client, room_id, tomorrow, "09:00", "09:30")
    reservation_id = re.search(
        r"/reservations/(\d+)/cancel", (await client.get("/reservations")).text
    )
    assert reservation_id is not None
    client.cookies.clear()
    await page_login(await make_user())
    response = await client.post(
        f"/reservations/{reservation_id.group(1)}/cancel", headers={"accept-language": "ja"}
    )
    assert response.status_code == 403
    assert "予約を取り消せるのは、予約した本人か管理者だけです。" in response.text


# --- cancelling from the room's day, names, dates ---


async def _make_named_user(app: Any, user_id: str, first: str, last: str, **kw: Any) -> str:
    await users.create_user(
        app.state.db,
        user_id=user_id,
        password=DEFAULT_PASSWORD,
        email=f"{user_id}@example.com",
        first_name=first,
        last_name=last,
        role=kw.get("role", Role.USER),
        status=UserStatus.ACTIVE,
        now=PINNED_NOW,
    )
    return user_id


async def test_an_admin_cancels_someone_elses_booking_from_the_day_with_a_mailed_reason(
    app: Any,
    client: httpx.AsyncClient,
    make_user: UserFactory,
    make_room: RoomFactory,
    page_login: PageLogin,
    tomorrow: date,
    settings: Settings,
) -> None:
    room_id = await make_room("Kaede")
    await page_login(await _make_named_user(app, "taro", "太郎", "田中"))
    await _reserve(client, room_id, tomorrow, "10:00", "11:00")
    client.cookies.clear()
    await page_login(await make_user("boss", role=Role.ADMIN))
    day_url = f"/rooms/{room_id}?date={tomorrow.isoformat()}"
    day = await client.get(day_url)
    link = re.search(r'href="(/reservations/(\d+)/cancel\?next=[^"]+)"', day.text)
    assert link is not None, "the admin sees a cancel link on someone else's booking"
    confirm = await client.get(link.group(1).replace("&amp;", "&"))
    assert confirm.status_code == 200
    assert 'name="reason"' in confirm.text
    assert f'name="next" value="{day_url}"' in confirm.text.replace("&amp;", "&")
    too_long = await client.post(
        f"/reservations/{link.group(2)}/cancel", data={"reason": "x" * 501, "next": day_url}
    )
    assert too_long.status_code == 422
    done = await client.post(
        f"/reservations/{link.group(2)}/cancel",
        data={"reason": "Fire drill in the room", "next": day_url},
    )
    assert done.status_code == 303
    assert done.headers["location"] == day_url + "&done=cancelled"
    after = await client.get(done.headers["location"])
    assert "The reservation was cancelled." in after.text
    assert "Reserved by" not in _text(after.text)
    # The invitation job tells the owner through the outbox, in their language, with
    # the reason (and had told them of their booking before).
    await run_invitation_job(app)
    with_smtp = settings.model_copy(update={"smtp_host": "127.0.0.1"})
    receiver = SmtpReceiver()
    receiver._controller.start()
    try:
        with_smtp = with_smtp.model_copy(update={"smtp_port": receiver.port})
        await notifications_service.deliver_due(app.state.db, with_smtp, now=PINNED_NOW)
    finally:
        receiver._controller.stop()
    [mail] = [
        m
        for m in receiver.messages
        if str(m["To"]) == "taro@example.com"
        and parts(m)["text/calendar"].get_param("method") == "CANCEL"
    ]
    assert "Kaede" in str(mail["Subject"])
    body = parts(mail)["text/plain"].get_content()
    assert "Fire drill in the room" in body
    assert "10:00–11:00" in body


async def test_a_user_cancels_after_a_confirmation_page(
    client: httpx.AsyncClient,
    make_user: UserFactory,
    make_room: RoomFactory,
    page_login: PageLogin,
    tomorrow: date,
) -> None:
    room_id = await make_room("Sakura")
    await page_login(await make_user())
    await _reserve(client, room_id, tomorrow, "15:00", "16:00")
    mine = await client.get("/reservations")
    link = re.search(r'href="/reservations/(\d+)/cancel"', mine.text)
    assert link is not None, "cancel is a link to a confirmation page, not an instant POST"
    confirm = await client.get(f"/reservations/{link.group(1)}/cancel")
    assert "Cancel this reservation?" in confirm.text
    assert 'name="reason"' not in confirm.text  # one's own: no reason to give
    await client.post(f"/reservations/{link.group(1)}/cancel", data={"next": "/reservations"})
    after = _text((await client.get("/reservations")).text)
    upcoming = after.split("Upcoming", 1)[1].split("Past", 1)[0]
    assert "Sakura" not in upcoming
    assert "You have no upcoming reservations." in upcoming


async def test_closing_refused_links_to_the_bookings_in_the_way(
    client: httpx.AsyncClient,
    make_user: UserFactory,
    make_room: RoomFactory,
    page_login: PageLogin,
    tomorrow: date,
) -> None:
    room_id = await make_room()
    await page_login(await make_user("booker2"))
    await _reserve(client, room_id, tomorrow, "10:00", "11:00")
    client.cookies.clear()
    await page_login(await make_user(role=Role.ADMIN))
    response = await client.post(
        f"/admin/rooms/{room_id}/dates",
        data={
            "from_date": "2030-01-08",
            "to_date": "2030-01-08",
            "weekdays": ["2"],
            "action": "close",
        },
    )
    assert response.status_code == 409
    assert f'href="/rooms/{room_id}?date=2030-01-08"' in response.text
    link = re.search(r'href="/reservations/(\d+)/cancel\?next=/admin/rooms/\d+"', response.text)
    assert link is not None
    await client.post(
        f"/reservations/{link.group(1)}/cancel", data={"next": f"/admin/rooms/{room_id}"}
    )
    closed = await client.post(
        f"/admin/rooms/{room_id}/dates",
        data={
            "from_date": "2030-01-08",
            "to_date": "2030-01-08",
            "weekdays": ["2"],
            "action": "close",
        },
    )
    assert closed.status_code == 303


async def test_japanese_names_are_family_name_first_and_ones_own_conflict_says_so(
    app: Any,
    client: httpx.AsyncClient,
    make_room: RoomFactory,
    page_login: PageLogin,
    tomorrow: date,
) -> None:
    room_id = await make_room()
    await page_login(await _make_named_user(app, "tanaka", "太郎", "田中"))
    await _reserve(client, room_id, tomorrow, "13:00", "14:00")
    own = await _reserve(client, room_id, tomorrow, "13:30", "14:30")
    assert own.status_code == 409
    assert "overlaps your own reservation from 13:00 to 14:00" in own.text
    client.cookies.clear()
    await page_login(await _make_named_user(app, "suzuki", "花子", "鈴木"))
    ja = {"accept-language": "ja"}
    day = _text((await client.get(f"/rooms/{room_id}?date={tomorrow}", headers=ja)).text)
    assert "田中 太郎 さん" in day
    assert "太郎 田中" not in day
    conflict = await client.post(
        f"/rooms/{room_id}/reservations",
        data={"date": tomorrow.isoformat(), "start_time": "13:00", "end_time": "13:30"},
        headers=ja,
    )
    assert "田中 太郎 さん" in conflict.text
    english = _text((await client.get(f"/rooms/{room_id}?date={tomorrow}")).text)
    assert "Reserved by 太郎 田中" in english  # given name first in English


async def test_dates_and_times_have_one_format_per_language(
    client: httpx.AsyncClient,
    make_user: UserFactory,
    make_room: RoomFactory,
    page_login: PageLogin,
    tomorrow: date,
) -> None:
    room_id = await make_room("Kiri")
    await page_login(await make_user())
    await _reserve(client, room_id, tomorrow, "15:00", "16:00")
    en = _text((await client.get("/reservations")).text)
    assert "Tue 8 Jan 2030 15:00–16:00" in en
    assert "Reserved Mon 7 Jan 2030 09:00" in en
    ja = {"accept-language": "ja"}
    japanese = _text((await client.get("/reservations", headers=ja)).text)
    assert "2030年1月8日(火) 15:00–16:00" in japanese
    assert "2030年1月7日(月) 09:00 に予約" in japanese
    day = _text((await client.get(f"/rooms/{room_id}?date={tomorrow}", headers=ja)).text)
    assert "2030年1月8日(火)" in day


async def test_the_form_offers_only_bookable_hours_still_to_come_and_today_is_always_there(
    client: httpx.AsyncClient, make_user: UserFactory, make_room: RoomFactory, page_login: PageLogin
) -> None:
    room_id = await make_room()
    await page_login(await make_user())
    today = (await client.get(f"/rooms/{room_id}")).text  # now is 09:00 on the pinned day
    starts = re.findall(
        r'<option value="(\d\d:\d\d)"', today.split('id="start_time"')[1].split("</select>")[0]
    )
    ends = re.findall(
        r'<option value="(\d\d:\d\d)"', today.split('id="end_time"')[1].split("</select>")[0]
    )
    assert starts[0] == "09:00"
    assert starts[-1] == "19:30"
    assert ends[0] == "09:30"
    assert ends[-1] == "20:00"
    assert "00:00" not in starts
    assert "24:00" not in ends
    assert ">Today<" in today  # also when the page already shows today
    assert ">Today<" in (await client.get("/rooms")).text


async def test_the_rooms_overview_has_the_same_hour_scale_for_every_room(
    client: httpx.AsyncClient, make_user: UserFactory, make_room: RoomFactory, page_login: PageLogin
) -> None:
    await make_room("Ume")
    await make_room("Kuri")
    await page_login(await make_user())
    page = (await client.get("/rooms?date=2030-01-08")).text
    scales = re.findall(r'<div class="timeline-scale" aria-hidden="true">(.*?)</div>', page)
    assert len(scales) == 2
    assert scales[0] == scales[1]
    labels = re.findall(r"<span>(\d\d:\d\d)</span>", scales[0])
    assert labels == ["09:00", "12:00", "15:00", "18:00"]
    assert scales[0].count('class="h"') == 12  # a tick at every hour 08:00..19:00
