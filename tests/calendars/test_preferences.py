"""Mail preferences: the rule, the API (GET/PUT /api/me/mail-preferences) and the page
/account/mail, on PostgreSQL and on SQLite."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from mrs.calendars import preferences
from mrs.calendars.models import MailPreference
from tests.conftest import LoginFactory, PageLogin, UserFactory, browser_like_client

pytestmark = pytest.mark.both_databases

URL = "/api/me/mail-preferences"
DEFAULTS = {"own_bookings": True, "invitations": True, "reminder_minutes": None}


@pytest.mark.parametrize("minutes", [None, 10, 15, 30, 60])
def test_the_reminder_choices_pass(minutes: int | None) -> None:
    assert preferences.check_reminder(minutes) == minutes


@pytest.mark.parametrize("minutes", [0, 5, 11, 45, 90, -10, True])
def test_other_reminders_are_refused(minutes: int) -> None:
    with pytest.raises(preferences.InvalidReminder):
        preferences.check_reminder(minutes)


async def _rows(app: Any) -> int:
    async with app.state.db.snapshot() as session:
        return int(await session.scalar(select(func.count()).select_from(MailPreference)) or 0)


async def test_no_row_reads_as_the_defaults(
    client: httpx.AsyncClient, user_headers: dict[str, str], app: Any
) -> None:
    response = await client.get(URL, headers=user_headers)
    assert response.status_code == 200
    assert response.json() == DEFAULTS
    assert await _rows(app) == 0  # reading writes nothing


async def test_saved_preferences_read_back_and_leave_others_alone(
    client: httpx.AsyncClient, make_user: UserFactory, login: LoginFactory, app: Any
) -> None:
    mine, other = await login(await make_user()), await login(await make_user())
    chosen = {"own_bookings": False, "invitations": True, "reminder_minutes": 15}
    saved = await client.put(URL, json=chosen, headers=mine)
    assert saved.status_code == 200
    assert saved.json() == chosen
    assert (await client.get(URL, headers=mine)).json() == chosen
    assert (await client.get(URL, headers=other)).json() == DEFAULTS
    # A second save replaces the row (an upsert), never adds one.
    again = {"own_bookings": True, "invitations": False, "reminder_minutes": None}
    assert (await client.put(URL, json=again, headers=mine)).json() == again
    assert (await client.get(URL, headers=mine)).json() == again
    assert await _rows(app) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**DEFAULTS, "reminder_minutes": 20}, "reminder_minutes"),
        ({**DEFAULTS, "reminder_minutes": "10"}, "reminder_minutes"),
        ({**DEFAULTS, "reminder_minutes": True}, "reminder_minutes"),
        ({**DEFAULTS, "reminder_minutes": 10**30}, "reminder_minutes"),
        ({**DEFAULTS, "own_bookings": "yes"}, "own_bookings"),
        ({**DEFAULTS, "invitations": 1}, "invitations"),
        ({"own_bookings": True, "invitations": True}, "reminder_minutes"),
        ({**DEFAULTS, "colour": "blue"}, "colour"),
    ],
)
async def test_invalid_preferences_are_422_and_change_nothing(
    client: httpx.AsyncClient,
    user_headers: dict[str, str],
    app: Any,
    body: dict[str, Any],
    field: str,
) -> None:
    await client.put(URL, json={**DEFAULTS, "reminder_minutes": 30}, headers=user_headers)
    response = await client.put(URL, json=body, headers=user_headers)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert field in [detail["field"] for detail in error["details"]]
    assert all(detail["message"] for detail in error["details"])
    assert (await client.get(URL, headers=user_headers)).json()["reminder_minutes"] == 30


async def test_a_bad_reminder_is_explained_in_the_readers_language(
    client: httpx.AsyncClient, user_headers: dict[str, str]
) -> None:
    body = {**DEFAULTS, "reminder_minutes": 5}
    en = await client.put(URL, json=body, headers=user_headers)
    ja = await client.put(URL, json=body, headers={**user_headers, "Accept-Language": "ja"})
    [en_detail] = en.json()["error"]["details"]
    [ja_detail] = ja.json()["error"]["details"]
    assert en_detail["message"] == "Choose a reminder of 10, 15, 30 or 60 minutes, or none."
    assert "リマインダー" in ja_detail["message"]


async def test_preferences_need_a_login(client: httpx.AsyncClient) -> None:
    assert (await client.get(URL)).status_code == 401
    assert (await client.put(URL, json=DEFAULTS)).status_code == 401


# --- the page ---


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """Page tests post forms as the browser does (CSRF token and Origin)."""
    async with browser_like_client(app) as http:
        yield http


def _checked(html: str) -> set[str]:
    return set(re.findall(r'<input id="([\w-]+)"[^>]*\bchecked\b', html))


async def test_the_page_shows_the_defaults_and_saves_with_a_confirmation(
    client: httpx.AsyncClient, make_user: UserFactory, page_login: PageLogin, app: Any
) -> None:
    user_id = await make_user()
    other = await make_user()
    await page_login(user_id)
    page = await client.get("/account/mail")
    assert page.status_code == 200
    assert _checked(page.text) == {"own_bookings", "invitations", "reminder-off"}
    assert 'href="/account/mail"' in page.text  # in the navigation
    # Unchecked boxes are not sent at all; the reminder is a radio button.
    saved = await client.post("/account/mail", data={"invitations": "on", "reminder_minutes": "30"})
    assert saved.status_code == 303
    assert saved.headers["location"] == "/account/mail?done=mail_saved"
    after = await client.get(saved.headers["location"])
    assert "Your mail preferences were saved." in after.text
    assert _checked(after.text) == {"invitations", "reminder-30"}
    assert await preferences.read_preferences(app.state.db, user_id=user_id) == (
        preferences.MailPreferences(own_bookings=False, invitations=True, reminder_minutes=30)
    )
    assert await preferences.read_preferences(app.state.db, user_id=other) == preferences.DEFAULTS


@pytest.mark.parametrize("value", ["20", "abc", "99999999999999999999", "-10"])
async def test_the_page_refuses_a_reminder_that_is_not_offered(
    client: httpx.AsyncClient, make_user: UserFactory, page_login: PageLogin, app: Any, value: str
) -> None:
    user_id = await make_user()
    await page_login(user_id)
    response = await client.post(
        "/account/mail", data={"own_bookings": "on", "reminder_minutes": value}
    )
    assert response.status_code == 422
    assert "Choose a reminder of 10, 15, 30 or 60 minutes, or none." in response.text
    assert 'aria-describedby="reminder_minutes-error"' in response.text
    assert await _rows(app) == 0


async def test_the_page_speaks_japanese(
    client: httpx.AsyncClient, make_user: UserFactory, page_login: PageLogin
) -> None:
    await page_login(await make_user())
    page = await client.get("/account/mail", headers={"Accept-Language": "ja"})
    assert "メールとリマインダー" in page.text
    assert "自分の予約についてのメール" in page.text
    assert "15 分前" in page.text


async def test_the_page_needs_a_login(client: httpx.AsyncClient) -> None:
    response = await client.get("/account/mail", headers={"Accept": "text/html"})
    assert response.status_code in (303, 401)
