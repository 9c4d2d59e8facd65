"""The day timeline, a room's week, my week and the free-room search pages, over HTTP
without a browser (the browser checks are in tests/e2e/test_views_browser.py), in English
and Japanese, on PostgreSQL and SQLite (tests/reservations/conftest.py).

The app's clock is pinned to Monday 2030-01-07 09:00 in Tokyo (tests/conftest.py)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from mrs.accounts.models import Role
from mrs.accounts.session_cookie import SESSION_COOKIE
from mrs.http.dependencies import LOCALE_COOKIE
from mrs.rooms.models import MeetingRoom
from tests.conftest import DEFAULT_PASSWORD, RoomFactory, UserFactory, browser_like_client
from tests.reservations.conftest import EquipmentFactory, MeetingFactory

pytestmark = pytest.mark.both_databases

HTML = {"accept": "text/html"}

PageLogin = Callable[..., Awaitable[None]]


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with browser_like_client(app) as http:
        yield http


@pytest.fixture
def page_login(client: httpx.AsyncClient) -> PageLogin:
    async def factory(user_id: str, *, language: str = "en") -> None:
        client.cookies.clear()
        client.cookies.set(LOCALE_COOKIE, language)
        response = await client.post(
            "/login", data={"user_id": user_id, "password": DEFAULT_PASSWORD}
        )
        assert response.status_code == 303, response.text
        assert SESSION_COOKIE in client.cookies

    return factory


async def _page(client: httpx.AsyncClient, url: str, status: int = 200) -> str:
    response = await client.get(url, headers=HTML)
    assert response.status_code == status, response.text[:2000]
    assert "<script>" not in response.text  # no inline script (CSP)
    return response.text


def _free_links(html: str) -> list[str]:
    return re.findall(r'<td class="f"><a href="([^"]+)"', html)


# --- the day timeline ---


async def test_the_timeline_shows_rooms_as_rows_with_hour_heads_and_bookings(
    client: httpx.AsyncClient,
    page_login: PageLogin,
    make_user: UserFactory,
    make_room: RoomFactory,
    meeting: MeetingFactory,
    tomorrow: date,
) -> None:
    sakura = await make_room("Sakura", capacity=8)
    await make_room("Kaede", capacity=4)
    owner = await make_user("hana")
    await meeting(owner, sakura, tomorrow, "10:00", "11:30", title="Budget <review>")
    await page_login(owner)
    html = await _page(client, f"/timeline?date={tomorrow.isoformat()}")
    assert html.index(">Kaede</a>") < html.index(">Sakura</a>")
    # Readable hour ticks, one per hour of the bookable day.
    assert re.findall(r'class="hour">(\d\d:\d\d)<', html)[:3] == ["08:00", "09:00", "10:00"]
    # The booking is one block over its three slots, its title escaped.
    assert 'colspan="3"' in html
    assert "Budget &lt;review&gt;" in html
    # Free slots are links to the room's day with the slot chosen.
    links = _free_links(html)
    assert f"/rooms/{sakura}?date={tomorrow.isoformat()}&amp;start=09:30&amp;end=10:00" in links
    assert f"/rooms/{sakura}?date={tomorrow.isoformat()}&amp;start=10:00&amp;end=10:30" not in links


async def test_a_free_timeline_cell_opens_the_booking_form_with_the_slot_chosen(
    client: httpx.AsyncClient,
    page_login: PageLogin,
    make_user: UserFactory,
    make_room: RoomFactory,
    tomorrow: date,
) -> None:
    room = await make_room("Sakura")
    await page_login(await make_user())
    html = await _page(client, f"/timeline?date={tomorrow.isoformat()}")
    link = next(url for url in _free_links(html) if "start=14:00" in url)
    day_page = await _page(client, link.replace("&amp;", "&"))
    assert f'action="/rooms/{room}/reservations"' in day_page
    assert re.search(r'<option value="14:00" selected', day_page)
    assert re.search(r'<option value="14:30" selected', day_page)


async def test_the_timeline_and_a_rooms_week_offer_only_the_rooms_bookable_hours(
    client: httpx.AsyncClient,
    page_login: PageLogin,
    make_user: UserFactory,
    make_room: RoomFactory,
    app: Any,
    tomorrow: date,
) -> None:
    # A room open 10:00–12:00 beside one open all day: the grid spans the usual hours,
    # but the short room's cells outside its hours are hatched, not links to book.
    short = await make_room("Short hours")
    await make_room("All day")
    async with app.state.db.transaction() as session:
        await session.execute(
            update(MeetingRoom)
            .where(MeetingRoom.room_id == short)
            .values(open_minute=600, close_minute=720)
        )
    await page_login(await make_user())

    def offered(html: str) -> list[str]:
        return [
            re.search(r"start=(\d\d:\d\d)", url).group(1)  # type: ignore[union-attr]
            for url in _free_links(html)
            if url.startswith(f"/rooms/{short}?")
        ]

    timeline = await _page(client, f"/timeline?date={tomorrow.isoformat()}")
    assert offered(timeline) == ["10:00", "10:30", "11:00", "11:30"]
    assert '<td class="x"></td>' in timeline
    week = await _page(client, f"/rooms/{short}/week?date={tomorrow.isoformat()}")
    assert set(offered(week)) == {"10:00", "10:30", "11:00", "11:30"}
    assert '<th scope="row">09:30</th>' not in week  # the week shows the room's hours


async def test_past_slots_of_today_are_not_offered(
    client: httpx.AsyncClient,
    page_login: PageLogin,
    make_user: UserFactory,
    make_room: RoomFactory,
    today: date,
) -> None:
    await make_room("Sakura")
    await page_login(await make_user())
    html = await _page(client, f"/timeline?date={today.isoformat()}")
    starts = [re.search(r"start=(\d\d:\d\d)", url).group(1) for url in _free_links(html)]  # type: ignore[union-attr]
    assert starts[0] == "09:00"  # the clock is pinned to 09:00


async def test_a_private_meeting_on_the_timeline_is_reserved_to_others_only(
    client: httpx.AsyncClient,
    page_login: PageLogin,
    make_user: UserFactory,
    make_room: RoomFactory,
    meeting: MeetingFactory,
    tomorrow: date,
) -> None:
    room = await make_room("Sakura")
    owner = await make_user("hana")
    stranger = await make_user("yui")
    admin = await make_user("boss", role=Role.ADMIN)
    await meeting(owner, room, tomorrow, "10:00", "11:00", title="Layoffs", visibility="PRIVATE")
    url = f"/timeline?date={tomorrow.isoformat()}"
    for viewer in (owner, admin):
        await page_login(viewer)
        assert "Layoffs" in await _page(client, url)
    await page_login(stranger)
    html = await _page(client, url)
    assert "Layoffs" not in html
    assert "Reserved" in html
    await page_login(stranger, language="ja")
    html = await _page(client, url)
    assert "Layoffs" not in html
    assert "予約済み" in html


async def test_timeline_filters_by_location_capacity_and_equipment(
    client: httpx.AsyncClient,
    page_login: PageLogin,
    make_user: UserFactory,
    make_room: RoomFactory,
    equip: EquipmentFactory,
    tomorrow: date,
) -> None:
    big = await make_room("Big", capacity=12)
    await make_room("Small", capacity=2)
    await equip(big, "projector")
    await page_login(await make_user())
    base = f"/timeline?date={tomorrow.isoformat()}"
    assert ">Small</a>" in await _page(client, base)
    html = await _page(client, base + "&capacity=6")
    assert (">Big</a>" in html, ">Small</a>" in html) == (True, False)
    html = await _page(client, base + "&equipment=projector")
    assert (">Big</a>" in html, ">Small</a>" in html) == (True, False)
    assert 'value="projector" checked' in html
    # The day links keep the filters.
    assert "&amp;equipment=projector" in html
    html = await _page(client, base + "&location=2F")
    assert "No room matches these filters." in html
    html = await _page(client, base + "&capacity=lots", status=422)
    assert "Enter a number of seats" in html


async def test_the_timeline_in_japanese(
    client: httpx.AsyncClient,
    page_login: PageLogin,
    make_user: UserFactory,
    make_room: RoomFactory,
    tomorrow: date,
) -> None:
    await make_room("Sakura")
    await page_login(await make_user(), language="ja")
    html = await _page(client, f"/timeline?date={tomorrow.isoformat()}")
    assert '<html lang="ja">' in html
    assert "2030年1月8日(火)" in html
    assert "前日" in html
    assert "Previous day" not in html


async def test_a_bad_timeline_date_is_said_next_to_the_field(
    client: httpx.AsyncClient, page_login: PageLogin, make_user: UserFactory
) -> None:
    await page_login(await make_user())
    html = await _page(client, "/timeline?date=2030-02-31", status=422)
    assert 'id="date-error"' in html


# --- a room's week and my week ---


async def test_a_rooms_week_has_seven_days_and_blocks_over_their_slots(
    client: httpx.AsyncClient,
    page_login: PageLogin,
    make_user: UserFactory,
    make_room: RoomFactory,
    meeting: MeetingFactory,
    tomorrow: date,
) -> None:
    room = await make_room("Sakura", days=5)  # Mon 7 to Fri 11 January
    owner = await make_user()
    await meeting(owner, room, tomorrow, "10:00", "12:00", title="Planning")
    await page_login(owner)
    html = await _page(client, f"/rooms/{room}/week?date={tomorrow.isoformat()}")
    assert len(re.findall(r"<thead>.*?</thead>", html, re.S)) == 1
    heads = re.search(r"<thead>(.*?)</thead>", html, re.S).group(1)  # type: ignore[union-attr]
    assert heads.count('scope="col"') == 8  # the time column and seven days
    assert "Mon 7 Jan 2030" in heads
    assert "Sun 13 Jan 2030" in heads
    assert 'rowspan="4"' in html  # two hours of 30-minute slots
    assert "Planning" in html
    assert html.count("Not open") == 2  # Saturday and Sunday
    assert f"/rooms/{room}?date=2030-01-09&amp;start=08:00&amp;end=08:30" in _free_links(html)
    assert "/week?date=2029-12-31" in html
    assert "/week?date=2030-01-14" in html


async def test_a_rooms_week_with_no_day_opened_shows_the_room_not_open_all_week(
    client: httpx.AsyncClient,
    page_login: PageLogin,
    make_user: UserFactory,
    make_room: RoomFactory,
    tomorrow: date,
) -> None:
    room = await make_room("Kaede", days=5)
    await page_login(await make_user())
    later = tomorrow + timedelta(days=28)
    html = await _page(client, f"/rooms/{room}/week?date={later.isoformat()}")
    assert "<h1>Kaede: week of" in html
    assert html.count("Not open") == 7
    assert _free_links(html) == []


async def test_an_unknown_rooms_week_is_404(
    client: httpx.AsyncClient, page_login: PageLogin, make_user: UserFactory
) -> None:
    await page_login(await make_user())
    await _page(client, "/rooms/999999/week", status=404)


async def test_my_week_lists_my_meetings_by_day(
    client: httpx.AsyncClient,
    page_login: PageLogin,
    make_user: UserFactory,
    make_room: RoomFactory,
    meeting: MeetingFactory,
    tomorrow: date,
) -> None:
    room = await make_room("Sakura", days=14)
    me = await make_user()
    someone = await make_user()
    await meeting(me, room, tomorrow, "10:00", "11:00")
    await meeting(me, room, tomorrow + timedelta(days=7), "15:00", "16:00")
    await meeting(someone, room, tomorrow, "13:00", "14:00")
    await page_login(me)
    html = await _page(client, f"/my/week?date={tomorrow.isoformat()}")
    assert "10:00–11:00" in html
    assert "13:00–14:00" not in html  # not mine
    assert "15:00–16:00" not in html  # next week
    assert html.count("No meetings.") == 6
    html = await _page(client, "/my/week?date=2030-01-14")
    assert "15:00–16:00" in html
    await page_login(me, language="ja")
    html = await _page(client, f"/my/week?date={tomorrow.isoformat()}")
    assert "次の週" in html


# --- free-room search ---


async def test_the_search_page_finds_rooms_and_links_to_a_filled_in_booking_form(
    client: httpx.AsyncClient,
    page_login: PageLogin,
    make_user: UserFactory,
    make_room: RoomFactory,
    equip: EquipmentFactory,
    tomorrow: date,
) -> None:
    big = await make_room("Big", capacity=12)
    medium = await make_room("Medium", capacity=6)
    await make_room("Small", capacity=2)
    await equip(big, "projector")
    await equip(medium, "projector", "whiteboard")
    await page_login(await make_user())
    form = await _page(client, "/search")
    assert 'type="checkbox" name="equipment" value="projector"' in form
    html = await _page(
        client,
        f"/search?date={tomorrow.isoformat()}&start_time=10:00&end_time=11:00&capacity=6"
        "&equipment=projector",
    )
    assert html.index(">Medium</h3>") < html.index(">Big</h3>")
    assert ">Small</h3>" not in html
    link = f"/rooms/{medium}?date={tomorrow.isoformat()}&amp;start=10:00&amp;end=11:00"
    assert link in html
    day_page = await _page(client, link.replace("&amp;", "&"))
    assert re.search(r'<option value="10:00" selected', day_page)
    assert re.search(r'<option value="11:00" selected', day_page)


async def test_search_form_errors_are_shown_next_to_their_fields_in_both_languages(
    client: httpx.AsyncClient, page_login: PageLogin, make_user: UserFactory, tomorrow: date
) -> None:
    user = await make_user()
    await page_login(user)
    html = await _page(
        client,
        f"/search?date={tomorrow.isoformat()}&start_time=11:00&end_time=10:00",
        status=422,
    )
    assert 'id="end_time-error"' in html
    assert "The end time must be after the start time." in html
    html = await _page(client, "/search?date=2030-02-30&start_time=&end_time=10:00", status=422)
    assert 'id="date-error"' in html
    assert 'id="start_time-error"' in html
    html = await _page(
        client,
        f"/search?date={tomorrow.isoformat()}&start_time=10:00&end_time=11:00&equipment=warp",
        status=422,
    )
    assert 'id="equipment-error"' in html
    await page_login(user, language="ja")
    html = await _page(
        client,
        f"/search?date={tomorrow.isoformat()}&start_time=11:00&end_time=10:00",
        status=422,
    )
    assert "空き会議室を探す" in html
    assert "終了時刻" in html


async def test_the_nav_links_to_the_views(
    client: httpx.AsyncClient, page_login: PageLogin, make_user: UserFactory
) -> None:
    await page_login(await make_user())
    html = await _page(client, "/rooms")
    for href in ('href="/timeline"', 'href="/search"', 'href="/my/week"'):
        assert href in html
