"""Every page in a real browser: clean console, CSP respected, both languages, keyboard,
phone width, and the plain-HTML path without JavaScript."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.e2e.browsing import Visit
from tests.e2e.conftest import ADMIN, ALICE, BOB, VisitFactory

SITE_TZ = ZoneInfo("Asia/Tokyo")

pytestmark = pytest.mark.slow


def _open_room(admin: Visit, *, days: int = 7) -> int:
    """Create a room through the admin pages and open it on every day of the next week."""
    page = admin.goto("/admin/rooms")
    page.get_by_label(admin.t("Name")).fill(f"Room {uuid.uuid4().hex[:6]}")
    page.get_by_role("button", name=admin.t("Create room")).click()
    page.wait_for_url(re.compile(r".*/admin/rooms/\d+\?done=room_created"))
    room_id = int(re.findall(r"/admin/rooms/(\d+)", page.url)[0])
    today = datetime.now(SITE_TZ).date()
    page.get_by_label(admin.t("To (inclusive)")).fill((today + timedelta(days=days)).isoformat())
    for weekday in ("Saturday", "Sunday"):
        page.get_by_label(admin.t(weekday)).check()
    page.get_by_role("button", name=admin.t("Open these dates")).click()
    page.wait_for_url(re.compile(r".*done=opened"))
    return room_id


def test_the_browser_harness_notices_a_csp_violation(open_visit: VisitFactory) -> None:
    """Guard for the checks below: an inline script on our page must be reported."""
    visit = open_visit("en", name="harness")
    page = visit.goto("/login")
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.inlineRan = true'; document.body.append(s); }"
    )
    expect(page.locator("body")).to_be_visible()
    page.wait_for_timeout(300)
    assert page.evaluate("() => window.inlineRan === undefined")
    assert any("CSP violation" in problem for problem in visit.problems)
    visit.problems.clear()


@pytest.mark.parametrize("language", ["en", "ja"])
def test_every_page_renders_cleanly(open_visit: VisitFactory, language: str) -> None:
    admin = open_visit(language, name="admin-pages")
    page = admin.goto("/login")
    expect(page.locator("html")).to_have_attribute("lang", language)
    admin.shot("login")
    admin.log_in(ADMIN.user_id, ADMIN.password)
    room_id = _open_room(admin)
    tomorrow = (datetime.now(SITE_TZ) + timedelta(days=1)).date().isoformat()
    for path, name in [
        ("/rooms", None),
        (f"/rooms?date={tomorrow}", None),
        (f"/rooms/{room_id}?date={tomorrow}", None),
        ("/reservations", None),
        ("/admin/rooms", None),
        (f"/admin/rooms/{room_id}", None),
        ("/no/such/page", "not-found"),
    ]:
        admin.goto(path)
        expect(admin.page.get_by_role("heading", level=1)).to_be_visible()
        if name:
            expect(admin.page.get_by_role("heading", level=1)).to_have_text(
                admin.t("Page not found")
            )
            admin.shot(name)

    alice = open_visit(language, name="alice-forbidden")
    alice.log_in(ALICE.user_id, ALICE.password)
    alice.goto("/admin/rooms")
    expect(alice.page.get_by_role("heading", level=1)).to_have_text(
        alice.t("You cannot open this page")
    )
    expect(alice.page.get_by_role("link", name=alice.t("Manage rooms"))).to_have_count(0)
    alice.shot("forbidden")

    phone = open_visit(language, width=390, height=844, name="phone")
    phone.log_in(BOB.user_id, BOB.password)
    phone.goto(f"/rooms?date={tomorrow}")
    phone.shot("phone-rooms")
    phone.goto(f"/rooms/{room_id}?date={tomorrow}")
    # Nothing wider than the screen: no sideways scrolling on a phone.
    assert phone.page.evaluate("() => document.documentElement.scrollWidth") <= 390
    phone.shot("phone-room-day")
    for visit in (admin, alice, phone):
        visit.assert_clean()
        assert visit.server_csp_seen or visit.csp_injected


def test_the_language_switch_is_remembered(open_visit: VisitFactory) -> None:
    visit = open_visit("en", name="switch")
    page = visit.goto("/login")
    page.get_by_role("button", name="日本語").click()
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.get_by_role("heading", level=1)).to_have_text("ログイン")
    assert any(
        cookie["name"] == "mrs_lang" and cookie["value"] == "ja"
        for cookie in visit.context.cookies()
    )
    visit.language = "ja"
    visit.log_in(ALICE.user_id, ALICE.password)  # the choice holds on the next pages
    expect(page.get_by_role("link", name="自分の予約")).to_be_visible()
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("link", name="My reservations")).to_be_visible()
    visit.assert_clean()


def test_logging_in_works_with_the_keyboard_alone(open_visit: VisitFactory) -> None:
    visit = open_visit("en", name="keyboard")
    page = visit.goto("/login")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
    page.get_by_label("User ID").focus()
    page.keyboard.type(ALICE.user_id)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password", exact=True)).to_be_focused()
    page.keyboard.type(ALICE.password)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/rooms"))
    visit.assert_clean()


def test_reserving_works_without_javascript(open_visit: VisitFactory) -> None:
    admin = open_visit("en", name="admin-nojs")
    admin.log_in(ADMIN.user_id, ADMIN.password)
    room_id = _open_room(admin)
    visit = open_visit("en", name="nojs", javascript=False)
    visit.log_in(BOB.user_id, BOB.password)
    tomorrow = (datetime.now(SITE_TZ) + timedelta(days=1)).date().isoformat()
    page = visit.goto(f"/rooms/{room_id}?date={tomorrow}")
    # Without script a free slot is a link that fills the form through the address.
    page.get_by_role("link", name="Free — choose 14:00").click()
    expect(page.get_by_label("Start")).to_have_value("14:00")
    expect(page.get_by_label("End")).to_have_value("14:30")
    page.get_by_role("button", name="Reserve this time").click()
    expect(page.get_by_role("status")).to_have_text("Your reservation is confirmed.")
    expect(page.get_by_role("row", name=re.compile("^14:00–14:30"))).to_contain_text(
        "Reserved by you"
    )
    visit.assert_clean()
