"""Days the clocks change, through the API and the pages, for a site in New York and
one in Berlin: times that do not exist are refused, lengths are real time, and a repeated
hour means its first occurrence in both front doors. Also: times and dates in ASCII only."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import pytest

from mrs.accounts.session_cookie import SESSION_COOKIE
from mrs.clock import FixedClock
from mrs.rooms import service as rooms_service
from mrs.settings import Settings
from tests.conftest import DEFAULT_PASSWORD, UserFactory, browser_like_client


class Site(NamedTuple):
    timezone: str
    spring: date  # clocks go forward at 02:00: 02:00–02:59 does not exist
    fall: date  # a wall hour happens twice
    repeated: str  # its first minute
    second_time_utc: datetime  # half past the repeated hour, the second time
    after_repeat: str  # the first wall time after it


NEW_YORK = Site(
    "America/New_York",
    date(2027, 3, 14),
    date(2027, 11, 7),
    "01:00",
    datetime(2027, 11, 7, 6, 30, tzinfo=UTC),  # 01:30 EST
    "02:00",
)
BERLIN = Site(
    "Europe/Berlin",
    date(2027, 3, 28),
    date(2027, 10, 31),
    "02:00",
    datetime(2027, 10, 31, 1, 30, tzinfo=UTC),  # 02:30 CET
    "03:00",
)


@pytest.fixture(params=[NEW_YORK, BERLIN], ids=["new_york", "berlin"])
def site(request: pytest.FixtureRequest) -> Site:
    site: Site = request.param
    return site


@pytest.fixture
def settings(tmp_path: Path, database_url: str, site: Site) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        secret_key="test-secret-key-0123456789-0123456789-0123456789",
        timezone=site.timezone,
        web_day_start_hour=0,  # the grid shows the small hours the clocks change in
    )


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2027, 3, 1, 12, 0, tzinfo=UTC))


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """API calls carry a bearer token; pages are driven as a browser drives them."""
    async with browser_like_client(app) as http:
        yield http


@pytest.fixture
async def room(app: Any, site: Site) -> int:
    created = await rooms_service.create_room(
        app.state.db, room_name="Sakura", capacity=6, location="1F"
    )
    for day in (site.spring, site.fall, date(2027, 6, 1)):
        await rooms_service.open_room(
            app.state.db, room_id=created.room_id, from_date=day, to_date=day, weekdays=None
        )
    return created.room_id


Login = Callable[[], Awaitable[dict[str, str]]]


@pytest.fixture
def login(client: httpx.AsyncClient, make_user: UserFactory) -> Login:
    """A new user logged in: the client keeps the page cookie; returns API headers."""

    async def factory() -> dict[str, str]:
        user_id = await make_user()
        response = await client.post(
            "/login", data={"user_id": user_id, "password": DEFAULT_PASSWORD}
        )
        assert response.status_code == 303
        assert SESSION_COOKIE in client.cookies
        api = await client.post(
            "/api/auth/login", json={"user_id": user_id, "password": DEFAULT_PASSWORD}
        )
        return {"Authorization": f"Bearer {api.json()['access_token']}"}

    return factory


def _slot(day: date, start: str, end: str) -> dict[str, str]:
    return {"date": day.isoformat(), "start_time": start, "end_time": end}


async def _reserve(
    client: httpx.AsyncClient, room: int, day: date, start: str, end: str, headers: dict[str, str]
) -> httpx.Response:
    return await client.post(
        f"/api/rooms/{room}/reservations", json=_slot(day, start, end), headers=headers
    )


async def test_the_skipped_hour_cannot_be_booked(
    client: httpx.AsyncClient, room: int, login: Login, site: Site
) -> None:
    headers = await login()
    for start, end in (("02:00", "03:00"), ("02:30", "04:00"), ("01:00", "02:30")):
        refused = await _reserve(client, room, site.spring, start, end, headers)
        assert refused.status_code == 422, (start, end, refused.text)
        error = refused.json()["error"]
        assert error["code"] == "time_does_not_exist"
        assert site.spring.isoformat() in error["message"]
    japanese = await _reserve(
        client, room, site.spring, "02:00", "03:00", {**headers, "Accept-Language": "ja"}
    )
    assert "02:00 は存在しません" in japanese.json()["error"]["message"]
    assert (
        await client.get(
            f"/api/rooms/{room}/reservations",
            params={"date": site.spring.isoformat()},
            headers=headers,
        )
    ).json() == []


async def test_lengths_are_real_time_in_the_answers(
    client: httpx.AsyncClient, room: int, login: Login, site: Site
) -> None:
    headers = await login()
    spring = await _reserve(client, room, site.spring, "01:30", "03:00", headers)
    assert spring.status_code == 201, spring.text
    assert spring.json()["duration_minutes"] == 30
    hour_after = f"{int(site.repeated[:2]) + 1:02d}:00"
    fall = await _reserve(client, room, site.fall, site.repeated, hour_after, headers)
    assert fall.status_code == 201, fall.text
    assert fall.json()["duration_minutes"] == 120
    ordinary = await _reserve(client, room, date(2027, 6, 1), "10:00", "11:30", headers)
    assert ordinary.json()["duration_minutes"] == 90
    for day, minutes in ((site.spring, 30), (site.fall, 120)):
        rooms = await client.get("/api/rooms", params={"date": day.isoformat()}, headers=headers)
        assert rooms.json()[0]["reserved_minutes"] == minutes


async def test_in_the_repeated_hour_api_and_page_agree_on_what_is_past(
    client: httpx.AsyncClient, room: int, login: Login, site: Site, clock: FixedClock
) -> None:
    headers = await login()
    clock.now = site.second_time_utc  # the repeated hour, the second time round
    half_past = f"{site.repeated[:2]}:30"
    past = await _reserve(client, room, site.fall, half_past, site.after_repeat, headers)
    assert past.status_code == 422
    assert past.json()["error"]["code"] == "start_in_past"
    page = await client.get(f"/rooms/{room}", params={"date": site.fall.isoformat()})
    assert page.status_code == 200
    offered = re.findall(r'class="slot-pick"[^>]*data-start="([0-9:]+)"', page.text)
    assert half_past not in offered  # the page no longer offers what the API refuses
    assert offered[0] == site.after_repeat
    ok = await _reserve(
        client, room, site.fall, site.after_repeat, f"{site.after_repeat[:2]}:30", headers
    )
    assert ok.status_code == 201, ok.text


async def test_the_page_offers_no_time_that_does_not_exist(
    client: httpx.AsyncClient, room: int, login: Login, site: Site
) -> None:
    await login()
    page = await client.get(f"/rooms/{room}", params={"date": site.spring.isoformat()})
    assert page.status_code == 200
    options = set(re.findall(r'<option value="([0-9:]+)"', page.text))
    assert not {"02:00", "02:30"} & options
    assert {"01:30", "03:00"} <= options
    # The slot before the gap runs to the first time after it: a range the API accepts.
    assert 'data-start="01:30" data-end="03:00"' in page.text
    refused = await client.post(
        f"/rooms/{room}/reservations",
        data={"date": site.spring.isoformat(), "start_time": "02:30", "end_time": "03:00"},
    )
    assert refused.status_code == 422
    error = re.search(r'<p class="field-error" id="start_time-error">([^<]*)</p>', refused.text)
    assert error is not None, refused.text
    assert "02:30 does not exist" in error.group(1)


@pytest.mark.parametrize("site", [NEW_YORK], ids=["new_york"], indirect=True)
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("start_time", "１０:００"),
        ("start_time", "\u0661\u0660:\u0660\u0660"),
        ("end_time", "11:00\n"),
        ("date", "２０２７-０６-０１"),
        ("date", "2027-06-01\n"),
    ],
)
async def test_times_and_dates_are_ascii_only_in_the_api(
    client: httpx.AsyncClient, room: int, login: Login, field: str, value: str
) -> None:
    headers = await login()
    body = {**_slot(date(2027, 6, 1), "10:00", "11:00"), field: value}
    response = await client.post(f"/api/rooms/{room}/reservations", json=body, headers=headers)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"][0]["field"] == field
    assert (
        await client.get(
            f"/api/rooms/{room}/reservations", params={"date": "2027-06-01"}, headers=headers
        )
    ).json() == []


@pytest.mark.parametrize("site", [NEW_YORK], ids=["new_york"], indirect=True)
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("start_time", "１０:００"),
        ("end_time", "\u0661\u0661:\u0660\u0660"),
        ("date", "２０２７-０６-０１"),
    ],
)
async def test_times_and_dates_are_ascii_only_in_the_page_form(
    client: httpx.AsyncClient, room: int, login: Login, field: str, value: str
) -> None:
    await login()
    data = {**_slot(date(2027, 6, 1), "10:00", "11:00"), field: value}
    response = await client.post(f"/rooms/{room}/reservations", data=data)
    assert response.status_code == 422, response.text
    assert re.search(rf'<p class="field-error" id="{field}-error">', response.text), response.text
