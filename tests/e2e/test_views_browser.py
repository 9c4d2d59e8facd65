"""The views that help find a slot in a real browser: the day timeline, a room's week, my
week and free-room search, in English and Japanese, axe-core clean, reachable with the
keyboard alone, and at phone width without sideways scrolling of the page (only the
timeline's own box scrolls, with the room column kept in view)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browsing import SITE_TZ, Visit, open_room
from tests.e2e.conftest import ADMIN, ALICE, VisitFactory

axe_playwright = pytest.importorskip("axe_playwright_python.sync_playwright")


def _axe_clean(visit: Visit) -> None:
    results = axe_playwright.Axe().run(visit.page)
    assert results.violations_count == 0, results.generate_report()


def _tomorrow() -> str:
    return (datetime.now(SITE_TZ) + timedelta(days=1)).date().isoformat()


def _tab_to(page: Page, selector: str, *, limit: int = 60) -> None:
    """Press Tab until the focused element matches `selector` (as a keyboard user would)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"() => document.activeElement.matches({selector!r})"):
            return
    raise AssertionError(f"{selector} not reached with Tab")


@pytest.mark.parametrize("language", ["en", "ja"])
def test_the_views_are_accessible_and_work_with_the_keyboard(
    open_visit: VisitFactory, language: str
) -> None:
    admin = open_visit(language, name="views-admin")
    admin.log_in(ADMIN.user_id, ADMIN.password)
    open_room(admin)
    tomorrow = _tomorrow()

    alice = open_visit(language, name="views-alice")
    alice.log_in(ALICE.user_id, ALICE.password)
    page = alice.goto(f"/timeline?date={tomorrow}")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.get_by_role("link", name=alice.t("Timeline"))).to_have_attribute(
        "aria-current", "page"
    )
    _axe_clean(alice)
    alice.shot("timeline")
    # From the filter button, Tab reaches the first free slot; Enter opens its booking form.
    page.get_by_role("button", name=alice.t("Show"), exact=True).focus()
    _tab_to(page, "td.f a")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf".*/rooms/\d+\?date={tomorrow}&start=\d\d:\d\d&end=.*"))
    start = re.search(r"start=(\d\d:\d\d)", page.url).group(1)  # type: ignore[union-attr]
    booked_room = re.search(r"/rooms/(\d+)", page.url).group(1)  # type: ignore[union-attr]
    expect(page.locator("#start_time")).to_have_value(start)
    page.get_by_role("button", name=alice.t("Reserve this time")).click()
    page.wait_for_url(re.compile(r".*done=reserved"))

    page = alice.goto(f"/rooms/{booked_room}/week?date={tomorrow}")
    expect(page.locator("table.week-grid thead th")).to_have_count(8)
    expect(page.locator("td.t.mine").first).to_be_visible()
    _axe_clean(alice)
    alice.shot("room-week")
    page.get_by_role("link", name=alice.t("Next week")).click()
    page.wait_for_url(re.compile(r".*/week\?date=.*"))

    page = alice.goto(f"/my/week?date={tomorrow}")
    expect(page.locator(".reservation").first).to_be_visible()
    _axe_clean(alice)

    page = alice.goto("/search")
    _axe_clean(alice)
    page.get_by_label(alice.t("Date")).fill(tomorrow)
    page.get_by_label(alice.t("Start time")).select_option("18:00")
    page.get_by_label(alice.t("End time")).select_option("19:00")
    page.get_by_label(alice.t("Seats at least")).press("Enter")  # submitted from the keyboard
    page.wait_for_url(re.compile(r".*/search\?.*"))
    expect(page.get_by_role("heading", level=2)).to_be_visible()
    _axe_clean(alice)
    alice.shot("search-results")
    page.get_by_role("link", name=alice.t("Book this room")).first.click()
    expect(page.locator("#start_time")).to_have_value("18:00")
    expect(page.locator("#end_time")).to_have_value("19:00")
    for visit in (admin, alice):
        visit.assert_clean()


@pytest.mark.parametrize("language", ["en", "ja"])
def test_at_phone_width_only_the_timeline_box_scrolls_and_room_names_stay(
    open_visit: VisitFactory, language: str
) -> None:
    admin = open_visit(language, name="views-phone-admin")
    admin.log_in(ADMIN.user_id, ADMIN.password)
    open_room(admin)
    phone = open_visit(language, width=390, height=844, name="views-phone")
    phone.log_in(ALICE.user_id, ALICE.password)
    for path in (f"/timeline?date={_tomorrow()}", "/search", "/my/week"):
        page = phone.goto(path)
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390, path
        _axe_clean(phone)
    page = phone.goto(f"/timeline?date={_tomorrow()}")
    box = page.locator(".day-grid-scroll")
    assert box.evaluate("(el) => el.scrollWidth > el.clientWidth")
    room = page.locator("tbody th.room-col").first
    before = room.bounding_box()
    box.evaluate("(el) => { el.scrollLeft = 400; }")
    after = room.bounding_box()
    assert before is not None
    assert after is not None
    assert abs(before["x"] - after["x"]) < 1  # sticky: the room column stays in view
    phone.shot("phone-timeline", full_page=False)
    phone.assert_clean()
