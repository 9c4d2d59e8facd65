"""Recurring series on the pages: the repeat options of the booking form read into a rule
(pure), and the pages that preview, create, show, change and cancel a series."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from mrs.accounts.models import Role
from mrs.http.dependencies import LOCALE_COOKIE
from mrs.notifications.models import OutboxMail
from mrs.reservations.models import Reservation
from mrs.reservations.recurrence import DayOfWeek, Frequency, RecurrenceRule, describe
from mrs.web.pages.repeat_form import (
    RepeatChoice,
    form_values_of,
    monthly_options,
    parse_repeat,
    weekday_options,
)
from tests.conftest import DEFAULT_PASSWORD, RoomFactory, UserFactory, browser_like_client
from tests.mail import run_invitation_job
from tests.reservations.conftest import MeetingFactory

TUESDAY = date(2027, 3, 9)  # the 2nd Tuesday of March 2027
LAST_FRIDAY = date(2027, 3, 26)


def _text(choice: RepeatChoice) -> str | None:
    return None if choice.rule is None else choice.rule.text()


def _fields(choice: RepeatChoice) -> dict[str, str]:
    return {error.name: error.msgid for error in choice.errors}


# --- the repeat options, without a database ---


def test_no_repeat_chosen_is_a_single_booking_and_the_other_fields_are_not_checked() -> None:
    choice = parse_repeat({"repeat": "", "interval": "x", "count": "-1"}, TUESDAY)
    assert choice.rule is None
    assert choice.errors == ()


def test_weekly_on_the_chosen_weekdays_until_a_date() -> None:
    choice = parse_repeat(
        {"repeat": "weekly", "weekdays": "TH,TU", "ends": "until", "until": "2027-04-30"},
        TUESDAY,
    )
    assert choice.rule == RecurrenceRule(
        frequency=Frequency.WEEKLY,
        by_day=(DayOfWeek(1), DayOfWeek(3)),
        until=date(2027, 4, 30),
    )
    assert _text(choice) == "FREQ=WEEKLY;BYDAY=TU,TH;UNTIL=20270430"


def test_weekly_without_a_weekday_asks_for_one() -> None:
    choice = parse_repeat(
        {"repeat": "weekly", "weekdays": "", "ends": "count", "count": "5"}, TUESDAY
    )
    assert choice.rule is None
    assert _fields(choice) == {"weekdays": "Choose at least one weekday."}


def test_every_other_day_n_times() -> None:
    choice = parse_repeat(
        {"repeat": "daily", "interval": "2", "ends": "count", "count": "10"}, TUESDAY
    )
    assert choice.rule == RecurrenceRule(frequency=Frequency.DAILY, interval=2, count=10)


def test_monthly_by_date_by_weekday_and_by_last_weekday_come_from_the_chosen_date() -> None:
    by_date = parse_repeat(
        {"repeat": "monthly", "monthly_by": "day", "ends": "count", "count": "3"}, TUESDAY
    )
    nth = parse_repeat(
        {"repeat": "monthly", "monthly_by": "weekday", "ends": "count", "count": "3"}, TUESDAY
    )
    last = parse_repeat(
        {"repeat": "monthly", "monthly_by": "last_weekday", "ends": "count", "count": "3"},
        LAST_FRIDAY,
    )
    assert _text(by_date) == "FREQ=MONTHLY;BYMONTHDAY=9;COUNT=3"
    assert _text(nth) == "FREQ=MONTHLY;BYDAY=2TU;COUNT=3"
    assert _text(last) == "FREQ=MONTHLY;BYDAY=-1FR;COUNT=3"


def test_last_weekday_is_refused_for_a_date_that_is_not_the_last_of_its_month() -> None:
    choice = parse_repeat(
        {"repeat": "monthly", "monthly_by": "last_weekday", "ends": "count", "count": "3"}, TUESDAY
    )
    assert set(_fields(choice)) == {"monthly_by"}


@pytest.mark.parametrize(
    ("values", "field", "msgid"),
    [
        ({"interval": "0"}, "interval", "Enter a whole number from 1 to {most}."),
        ({"interval": "100"}, "interval", "Enter a whole number from 1 to {most}."),
        ({"interval": "２"}, "interval", "Enter a whole number from 1 to {most}."),
        ({"ends": "count", "count": ""}, "count", "Enter a whole number from 1 to {most}."),
        ({"ends": "until", "until": ""}, "until", "Enter the last date of the series."),
        ({"ends": "until", "until": "2027-02-30"}, "until", "This date does not exist."),
        ({"ends": "until", "until": "31/03/2027"}, "until", "Enter a date as YYYY-MM-DD."),
        (
            {"ends": "until", "until": "2027-03-08"},
            "until",
            "The last date must not be before the first date.",
        ),
        ({"ends": "never"}, "ends", "Choose when the series ends."),
        ({"repeat": "yearly"}, "repeat", "Choose how the meeting repeats."),
    ],
)
def test_a_wrong_choice_is_said_next_to_its_field(
    values: dict[str, str], field: str, msgid: str
) -> None:
    typed = {"repeat": "daily", "ends": "until", "until": "2027-03-31", **values}
    choice = parse_repeat(typed, TUESDAY)
    assert choice.rule is None
    assert _fields(choice)[field] == msgid


def test_a_rule_fills_the_fields_it_was_read_from() -> None:
    typed = {
        "repeat": "monthly",
        "interval": "2",
        "weekdays": "",
        "monthly_by": "weekday",
        "ends": "count",
        "until": "",
        "count": "6",
    }
    rule = parse_repeat(typed, TUESDAY).rule
    assert rule is not None
    assert form_values_of(rule, TUESDAY) == typed


def test_the_choices_are_worded_from_the_booking_date_in_both_languages() -> None:
    assert [o.label for o in monthly_options(LAST_FRIDAY, "en")] == [
        "On day 26 of each month",
        "On the fourth Friday of each month",
        "On the last Friday of each month",
    ]
    assert [o.label for o in monthly_options(TUESDAY, "ja")] == ["毎月9日", "毎月第2火曜日"]
    assert weekday_options("ja")[0].label == "月曜日"
    assert weekday_options("en")[6].value == "SU"


def test_the_rule_is_said_in_words() -> None:
    rule = parse_repeat(
        {"repeat": "weekly", "weekdays": "TU", "ends": "until", "until": "2027-03-30"}, TUESDAY
    ).rule
    assert rule is not None
    assert describe(rule, TUESDAY, 600, 660, "en").startswith("Every Tuesday, 10:00–11:00, until")


# --- the pages, over HTTP, on both databases ---
# The app's clock is Monday 2030-01-07 09:00 in Tokyo; rooms from `make_room(days=30)` are
# open every day of the next 30 days.

MONDAY = date(2030, 1, 7)
NEXT_MONDAY = date(2030, 1, 14)


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with browser_like_client(app) as http:
        yield http


@pytest.fixture
def page_login(client: httpx.AsyncClient) -> Callable[..., Awaitable[None]]:
    async def factory(user_id: str, *, language: str = "en") -> None:
        client.cookies.clear()
        client.cookies.set(LOCALE_COOKIE, language)
        response = await client.post(
            "/login", data={"user_id": user_id, "password": DEFAULT_PASSWORD}
        )
        assert response.status_code == 303, response.text

    return factory


def _visible(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def _field_error(page: str, name: str) -> str:
    found = re.search(rf'<p class="field-error" id="{re.escape(name)}-error">(.*?)</p>', page)
    assert found is not None, f"no message next to {name}"
    return html.unescape(found.group(1))


def _weekly(day: date, times: int, **more: str) -> dict[str, str]:
    """The booking form of a weekly meeting on `day`'s weekday, 10:00–11:00."""
    weekday = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")[day.weekday()]
    return {
        "date": day.isoformat(),
        "start_time": "10:00",
        "end_time": "11:00",
        "title": "Team sync",
        "repeat": "weekly",
        "interval": "1",
        "weekdays": weekday,
        "ends": "count",
        "count": str(times),
        **more,
    }


async def _occurrences(app: Any) -> list[tuple[date, str, bool]]:
    async with app.state.db.snapshot() as session:
        rows = await session.execute(
            select(Reservation.reserved_date, Reservation.status, Reservation.is_exception)
            .where(Reservation.series_id.is_not(None))
            .order_by(Reservation.reserved_date)
        )
        return [(row[0], str(row[1]), bool(row[2])) for row in rows]


async def _series_url(client: httpx.AsyncClient, room_id: int, data: dict[str, str]) -> str:
    done = await client.post(f"/rooms/{room_id}/reservations", data={**data, "intent": "series"})
    assert done.status_code == 303, done.text[:3000]
    location = done.headers["location"]
    assert re.fullmatch(r"/series/\d+\?done=series_created.*", location), location
    return location.split("?")[0]


@pytest.mark.both_databases
@pytest.mark.parametrize("language", ["en", "ja"])
async def test_preview_lists_every_date_free_or_taken_by_whom_and_writes_nothing(
    app: Any,
    client: httpx.AsyncClient,
    page_login: Callable[..., Awaitable[None]],
    make_user: UserFactory,
    make_room: RoomFactory,
    meeting: MeetingFactory,
    language: str,
) -> None:
    room_id = await make_room("Sakura", days=30)
    await make_user("alice")
    await make_user("bob")
    await meeting("bob", room_id, NEXT_MONDAY, "10:30", "11:30", title="Board")
    await page_login("alice", language=language)
    for intent in ("preview", ""):  # the usual button shows the dates too, first
        page = await client.post(
            f"/rooms/{room_id}/reservations",
            data={**_weekly(MONDAY + timedelta(days=7 * 0), 3), "intent": intent},
        )
        assert page.status_code == 200, page.text[:3000]
        dates = page.text.split('class="preview-dates"')[1]
        rows = re.findall(r'<tr class="(free|conflict|unbookable)">', dates)
        assert rows == ["free", "conflict", "free"]
        text = _visible(page.text)
        assert "Board" in text
        words = (
            "毎週月曜日 10:00–11:00、3回"
            if language == "ja"
            else "Every Monday, 10:00–11:00, 3 times"
        )
        assert words in text
        assert 'name="intent" value="series"' in page.text
    assert await _occurrences(app) == []


@pytest.mark.both_databases
async def test_a_series_with_a_taken_date_is_refused_whole_or_reserved_without_it(
    app: Any,
    client: httpx.AsyncClient,
    page_login: Callable[..., Awaitable[None]],
    make_user: UserFactory,
    make_room: RoomFactory,
    meeting: MeetingFactory,
) -> None:
    room_id = await make_room("Sakura", days=30)
    await make_user("alice")
    await make_user("bob")
    await meeting("bob", room_id, NEXT_MONDAY, "10:30", "11:30", title="Board")
    await page_login("alice")

    refused = await client.post(
        f"/rooms/{room_id}/reservations",
        data={**_weekly(MONDAY, 3), "intent": "series", "on_conflict": "fail"},
    )
    assert refused.status_code == 409
    message = _visible(refused.text)
    assert "Nothing was reserved" in message
    assert "Mon 14 Jan 2030" in message or "14 Jan" in message
    assert "Board" in message
    # The dates are shown again as they are now, with the choice to skip the taken one.
    assert 'id="on-conflict-skip"' in refused.text
    assert await _occurrences(app) == []

    series_url = await _series_url(client, room_id, {**_weekly(MONDAY, 3), "on_conflict": "skip"})
    assert [row[0] for row in await _occurrences(app)] == [MONDAY, date(2030, 1, 21)]
    page = await client.get(series_url + "?done=series_created_skipped&n=1")
    assert "1 date(s) that were taken were skipped" in _visible(page.text)


@pytest.mark.both_databases
async def test_wrong_repeat_fields_are_said_next_to_them_and_nothing_is_booked(
    app: Any,
    client: httpx.AsyncClient,
    page_login: Callable[..., Awaitable[None]],
    make_user: UserFactory,
    make_room: RoomFactory,
) -> None:
    room_id = await make_room("Sakura", days=30)
    await make_user("alice")
    await page_login("alice", language="ja")
    page = await client.post(
        f"/rooms/{room_id}/reservations",
        data={**_weekly(MONDAY, 3), "weekdays": "", "ends": "until", "until": "2029-12-31"},
    )
    assert page.status_code == 422
    assert _field_error(page.text, "weekdays") == "曜日を 1 つ以上選んでください。"
    assert _field_error(page.text, "until") != ""
    # What was typed stays: the weekly choice and the title.
    assert '<option value="weekly" selected>' in page.text
    assert 'value="Team sync"' in page.text
    # A rule the service refuses (beyond the site's cap) is said too, never a 500.
    too_many = await client.post(
        f"/rooms/{room_id}/reservations",
        data={**_weekly(MONDAY, 3), "repeat": "daily", "count": "999", "intent": "preview"},
    )
    assert too_many.status_code == 422
    assert "500" in _visible(too_many.text)
    async with app.state.db.snapshot() as session:
        assert (await session.scalars(select(Reservation.reservation_id))).all() == []


@pytest.mark.both_databases
async def test_the_series_page_shows_the_rule_the_dates_and_offers_changes_to_its_owner(
    app: Any,
    client: httpx.AsyncClient,
    page_login: Callable[..., Awaitable[None]],
    make_user: UserFactory,
    make_room: RoomFactory,
) -> None:
    room_id = await make_room("Sakura", days=30)
    await make_user("alice")
    await make_user("carol")
    await page_login("alice")
    series_url = await _series_url(client, room_id, _weekly(MONDAY, 3))
    page = await client.get(series_url + "?done=series_created")
    assert page.status_code == 200
    text = _visible(page.text)
    assert "Every Monday, 10:00–11:00, 3 times" in text
    assert "Team sync" in text
    assert "The repeating meeting is reserved" in text
    assert len(re.findall(r'<a href="/reservations/\d+">', page.text)) == 3
    assert f'href="{series_url}/edit"' in page.text

    # The dates carry the series marker and link to the series.
    mine = await client.get("/reservations")
    assert mine.text.count('class="series-marker"') == 3
    for view in (
        f"/rooms/{room_id}?date={MONDAY.isoformat()}",
        f"/rooms/{room_id}/week?date={MONDAY.isoformat()}",
        f"/timeline?date={MONDAY.isoformat()}",
        f"/my/week?date={MONDAY.isoformat()}",
    ):
        shown = await client.get(view)
        assert shown.status_code == 200, view
        assert 'class="series-marker"' in shown.text, view
        assert "(repeats)" in _visible(shown.text), view
    first_id = re.findall(r'<a href="/reservations/(\d+)">', page.text)[0]
    occurrence = await client.get(f"/reservations/{first_id}")
    assert f'href="{series_url}"' in occurrence.text

    await page_login("carol")
    other = await client.get(series_url)
    assert other.status_code == 200
    assert "/edit" not in other.text
    assert (await client.get(series_url + "/edit")).status_code == 403


@pytest.mark.both_databases
async def test_a_date_cancelled_on_its_own_stays_cancelled_when_all_dates_change(
    app: Any,
    client: httpx.AsyncClient,
    page_login: Callable[..., Awaitable[None]],
    make_user: UserFactory,
    make_room: RoomFactory,
) -> None:
    room_id = await make_room("Sakura", days=30)
    await make_user("alice")
    await page_login("alice")
    series_url = await _series_url(client, room_id, _weekly(MONDAY, 3))
    ids = re.findall(r'<a href="/reservations/(\d+)">', (await client.get(series_url)).text)

    cancel_form = await client.get(f"/reservations/{ids[1]}/cancel")
    assert 'id="scope-this"' in cancel_form.text
    cancelled = await client.post(
        f"/reservations/{ids[1]}/cancel",
        data={"scope": "this", "from_date": NEXT_MONDAY.isoformat(), "next": series_url},
    )
    assert cancelled.status_code == 303

    changed = await client.post(
        series_url + "/edit",
        data={
            "scope": "all",
            "start_time": "13:00",
            "end_time": "14:00",
            "title": "Team sync (afternoon)",
            "visibility": "PUBLIC",
        },
    )
    assert changed.status_code == 303, changed.text[:3000]
    assert changed.headers["location"] == series_url + "?done=series_changed"
    page = await client.get(changed.headers["location"])
    rows = re.findall(r'<tr class="(\w+)">', page.text.split('class="occurrences"')[1])
    assert rows == ["active", "cancelled", "active"]
    assert "13:00–14:00" in _visible(page.text)
    assert [(d, s) for d, s, _ in await _occurrences(app)] == [
        (MONDAY, "ACTIVE"),
        (NEXT_MONDAY, "CANCELLED"),
        (date(2030, 1, 21), "ACTIVE"),
    ]


@pytest.mark.both_databases
async def test_from_an_occurrence_this_date_only_or_the_following_dates_change(
    app: Any,
    client: httpx.AsyncClient,
    page_login: Callable[..., Awaitable[None]],
    make_user: UserFactory,
    make_room: RoomFactory,
) -> None:
    room_id = await make_room("Sakura", days=30)
    await make_user("alice")
    await page_login("alice")
    series_url = await _series_url(client, room_id, _weekly(MONDAY, 3))
    ids = re.findall(r'<a href="/reservations/(\d+)">', (await client.get(series_url)).text)
    form = await client.get(f"/reservations/{ids[0]}/edit")
    assert 'id="scope-this"' in form.text
    assert 'id="scope-following"' in form.text
    version = re.search(r'name="version" value="(\d+)"', form.text)
    assert version is not None
    base = {
        "date": MONDAY.isoformat(),
        "from_date": MONDAY.isoformat(),
        "start_time": "10:00",
        "end_time": "11:00",
        "room_id": str(room_id),
        "version": version.group(1),
        "visibility": "PUBLIC",
    }
    # Moving one date to another day is for "this date only".
    refused = await client.post(
        f"/reservations/{ids[0]}/edit",
        data={**base, "date": "2030-01-08", "scope": "following", "title": "X"},
    )
    assert refused.status_code == 422
    assert "This date only" in _field_error(refused.text, "date")

    only_this = await client.post(
        f"/reservations/{ids[0]}/edit", data={**base, "scope": "this", "title": "Kick-off"}
    )
    assert only_this.status_code == 303
    assert only_this.headers["location"] == f"/reservations/{ids[0]}?done=changed"

    following = await client.post(
        f"/reservations/{ids[1]}/edit",
        data={
            **base,
            "date": NEXT_MONDAY.isoformat(),
            "from_date": NEXT_MONDAY.isoformat(),
            "version": "1",
            "scope": "following",
            "title": "Retro",
        },
    )
    assert following.status_code == 303, following.text[:3000]
    assert re.fullmatch(r"/series/\d+\?done=series_changed", following.headers["location"])
    titles = {}
    async with app.state.db.snapshot() as session:
        for row in await session.execute(
            select(Reservation.reserved_date, Reservation.title).order_by(Reservation.reserved_date)
        ):
            titles[row[0]] = row[1]
    assert titles == {MONDAY: "Kick-off", NEXT_MONDAY: "Retro", date(2030, 1, 21): "Retro"}


@pytest.mark.both_databases
async def test_cancelling_the_series_from_a_date_keeps_the_earlier_dates(
    app: Any,
    client: httpx.AsyncClient,
    page_login: Callable[..., Awaitable[None]],
    make_user: UserFactory,
    make_room: RoomFactory,
) -> None:
    room_id = await make_room("Sakura", days=30)
    await make_user("alice")
    await page_login("alice", language="ja")
    series_url = await _series_url(client, room_id, _weekly(MONDAY, 3))
    form = await client.get(series_url + "/cancel")
    assert form.status_code == 200
    assert "繰り返し予約を取り消しますか？" in form.text
    wrong = await client.post(series_url + "/cancel", data={"from_date": "2030-02-30"})
    assert wrong.status_code == 422
    done = await client.post(series_url + "/cancel", data={"from_date": NEXT_MONDAY.isoformat()})
    assert done.status_code == 303
    assert [(d, s) for d, s, _ in await _occurrences(app)] == [
        (MONDAY, "ACTIVE"),
        (NEXT_MONDAY, "CANCELLED"),
        (date(2030, 1, 21), "CANCELLED"),
    ]


@pytest.mark.both_databases
async def test_an_admin_cancels_someones_series_with_a_reason_mailed_to_the_owner(
    app: Any,
    client: httpx.AsyncClient,
    page_login: Callable[..., Awaitable[None]],
    make_user: UserFactory,
    make_room: RoomFactory,
) -> None:
    room_id = await make_room("Kaede", days=30)
    await make_user("taro")
    await page_login("taro")
    series_url = await _series_url(client, room_id, _weekly(MONDAY, 3))
    await page_login(await make_user("boss", role=Role.ADMIN))
    form = await client.get(series_url + "/cancel")
    assert 'name="reason"' in form.text
    too_long = await client.post(
        series_url + "/cancel", data={"from_date": MONDAY.isoformat(), "reason": "r" * 501}
    )
    assert too_long.status_code == 422
    assert _field_error(too_long.text, "reason")
    done = await client.post(
        series_url + "/cancel",
        data={"from_date": MONDAY.isoformat(), "reason": "The floor is being painted"},
    )
    assert done.status_code == 303
    assert {s for _, s, _ in await _occurrences(app)} == {"CANCELLED"}
    await run_invitation_job(app)
    async with app.state.db.snapshot() as session:
        mails = (await session.scalars(select(OutboxMail))).all()
    assert any(
        m.recipient == "taro@example.com" and "The floor is being painted" in m.body for m in mails
    )


@pytest.mark.both_databases
async def test_the_booking_form_offers_every_repeat_option_without_script_and_says_why_a_date_cannot_be_had(
    client: httpx.AsyncClient,
    page_login: Callable[..., Awaitable[None]],
    make_user: UserFactory,
    make_room: RoomFactory,
) -> None:
    room_id = await make_room("Sakura", days=14)  # open until Sunday 2030-01-20
    await make_user("alice")
    await page_login("alice")
    form = await client.get(f"/rooms/{room_id}?date={MONDAY.isoformat()}")
    # Every group is in the page (the script only hides those that do not apply); the
    # booking date's weekday is ticked, and the monthly choices are worded from it.
    assert '<option value="" selected>Does not repeat</option>' in form.text
    assert 'id="weekday-MO" name="weekdays" type="checkbox" value="MO" checked' in form.text
    assert 'id="weekday-TU" name="weekdays" type="checkbox" value="TU">' in form.text
    text = _visible(form.text)
    assert "On day 7 of each month" in text
    assert "On the first Monday of each month" in text
    assert "On the last Monday of each month" not in text
    assert 'name="intent" value="preview"' in form.text

    page = await client.post(
        f"/rooms/{room_id}/reservations", data={**_weekly(MONDAY, 3), "intent": "preview"}
    )
    dates = page.text.split('class="preview-dates"')[1]
    assert re.findall(r'<tr class="(\w+)">', dates) == ["free", "free", "unbookable"]
    assert "The room is not open that day" in _visible(dates)
    assert "2 of 3 date(s) are free." in _visible(page.text)
