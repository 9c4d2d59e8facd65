"""A repeating meeting in a real browser, in English and Japanese, keyboard only: book a
weekly series from a room's day, see its dates before saving, reserve it, open the series
page, cancel one date on its own, change "all" dates and see the cancelled one stay
cancelled. Every new page is axe-core clean, and the series page fits a phone's width."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browsing import SITE_TZ, Visit
from tests.e2e.conftest import ALICE, VisitFactory
from tests.e2e.test_meetings_story import _admin_api

axe_playwright = pytest.importorskip("axe_playwright_python.sync_playwright")

WEEKS = 3


def _axe_clean(visit: Visit) -> None:
    results = axe_playwright.Axe().run(visit.page)
    assert results.violations_count == 0, results.generate_report()


def _room_open_for_weeks(base_url: str, first: date) -> int:
    """A new room open every day from today until after the series' last date."""
    today = datetime.now(SITE_TZ).date()
    with _admin_api(base_url) as api:
        room = api.post(
            "/api/admin/rooms",
            json={
                "room_name": f"Weekly {uuid.uuid4().hex[:6]}",
                "capacity": 8,
                "opening": {"weekdays": [1, 2, 3, 4, 5, 6, 7], "start_time": "08:00"},
            },
        )
        assert room.status_code == 201, room.text
        room_id = int(room.json()["room_id"])
        opened = api.post(
            f"/api/admin/rooms/{room_id}/open",
            json={
                "from_date": today.isoformat(),
                "to_date": (first + timedelta(weeks=WEEKS)).isoformat(),
            },
        )
        assert opened.status_code == 200, opened.text
    return room_id


def _press(page: Page, selector: str, key: str = "Enter") -> None:
    page.locator(selector).focus()
    page.keyboard.press(key)


@pytest.mark.parametrize(
    ("language", "start", "end"), [("en", "10:00", "11:00"), ("ja", "14:00", "15:00")]
)
def test_a_weekly_series_is_previewed_reserved_and_changed_with_the_keyboard(
    open_visit: VisitFactory, base_url: str, language: str, start: str, end: str
) -> None:
    first = datetime.now(SITE_TZ).date() + timedelta(days=2)
    room_id = _room_open_for_weeks(base_url, first)
    title = f"Weekly sync {uuid.uuid4().hex[:4]}"

    alice = open_visit(language, name="series-alice")
    alice.log_in(ALICE.user_id, ALICE.password)
    page = alice.goto(f"/rooms/{room_id}?date={first.isoformat()}&start={start}&end={end}")
    page.locator("#title").focus()
    page.keyboard.type(title)
    # Repeat weekly (two steps down from "Does not repeat"), on the booking date's weekday
    # (ticked already), 3 times.
    page.locator("#repeat").focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(page.locator("#repeat")).to_have_value("weekly")
    weekday = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")[first.weekday()]
    expect(page.locator(f"#weekday-{weekday}")).to_be_checked()
    _press(page, "#ends-count", " ")
    page.locator("#count").focus()
    page.keyboard.type(str(WEEKS))
    _axe_clean(alice)
    alice.shot("series-booking-form")

    _press(page, "button[name=intent][value=preview]")
    preview = page.locator("#preview")
    expect(preview).to_be_visible()
    expect(preview).to_be_focused()
    expect(page.locator(".preview-dates tbody tr.free")).to_have_count(WEEKS)
    _axe_clean(alice)
    alice.shot("series-preview")

    _press(page, "button[name=intent][value=series]")
    page.wait_for_url(re.compile(r".*/series/\d+\?done=series_created.*"))
    series_url = page.url.split("?")[0]
    expect(page.get_by_role("heading", level=1)).to_contain_text(title)
    dates = page.locator(".occurrences tbody tr")
    expect(dates).to_have_count(WEEKS)
    _axe_clean(alice)
    alice.shot("series-page")

    # The second date is cancelled on its own.
    second = page.locator(".occurrences tbody tr").nth(1).get_by_role("link")
    second.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/reservations/\d+$"))
    expect(
        page.get_by_role("link", name=alice.t("Part of a repeating meeting: see all its dates"))
    ).to_be_visible()
    _press(page, "a.button.danger")
    page.wait_for_url(re.compile(r".*/cancel.*"))
    expect(page.locator("#scope-this")).to_be_checked()
    _axe_clean(alice)
    _press(page, "button.danger")
    page.wait_for_url(re.compile(r".*done=cancelled"))

    # All dates get a new title: the cancelled one stays cancelled.
    page = alice.goto(series_url)
    _press(page, f"a[href='{series_url.removeprefix(base_url)}/edit']")
    page.wait_for_url(re.compile(r".*/series/\d+/edit$"))
    expect(page.locator("#scope-all")).to_be_checked()
    _axe_clean(alice)
    page.locator("#title").fill("")
    page.locator("#title").focus()
    page.keyboard.type(f"{title} (new)")
    page.get_by_role("button", name=alice.t("Save the changes")).focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/series/\d+\?done=series_changed"))
    rows = page.locator(".occurrences tbody tr")
    expect(rows.nth(1)).to_have_class(re.compile(r"cancelled"))
    expect(rows.nth(0)).not_to_have_class(re.compile(r"cancelled"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"{title} (new)")
    alice.assert_clean()


def test_the_series_page_fits_a_phone(open_visit: VisitFactory, base_url: str) -> None:
    first = datetime.now(SITE_TZ).date() + timedelta(days=2)
    room_id = _room_open_for_weeks(base_url, first)
    phone = open_visit("ja", width=390, height=844, name="series-phone")
    phone.log_in(ALICE.user_id, ALICE.password)
    page = phone.goto(f"/rooms/{room_id}?date={first.isoformat()}&start=16:00&end=17:00")
    page.locator("#repeat").select_option("daily")
    page.locator("#ends-count").check()
    page.locator("#count").fill("4")
    page.get_by_role("button", name=phone.t("Preview dates")).click()
    expect(page.locator("#preview")).to_be_visible()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    page.get_by_role("button", name=phone.t("Reserve the series")).click()
    page.wait_for_url(re.compile(r".*/series/\d+\?done=series_created.*"))
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    _axe_clean(phone)
    phone.assert_clean()
