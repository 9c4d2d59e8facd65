"""Every page in a real browser: clean console, CSP respected, both languages, keyboard,
phone width, and the plain-HTML path without JavaScript."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.e2e.browsing import add_group, open_room
from tests.e2e.conftest import ADMIN, ALICE, BOB, VisitFactory

SITE_TZ = ZoneInfo("Asia/Tokyo")

pytestmark = pytest.mark.slow


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
    room_id = open_room(admin)
    group_id = add_group(admin)
    tomorrow = (datetime.now(SITE_TZ) + timedelta(days=1)).date().isoformat()
    for path, name in [
        ("/rooms", None),
        (f"/rooms?date={tomorrow}", None),
        (f"/rooms/{room_id}?date={tomorrow}", None),
        ("/reservations", None),
        ("/admin/rooms", None),
        (f"/admin/rooms/{room_id}", None),
        ("/admin/registrations", None),
        ("/admin/users", None),
        ("/admin/groups", None),
        (f"/admin/groups/{group_id}", None),
        (f"/admin/groups/{group_id}/members", None),
        (f"/admin/groups/{group_id}/delete", None),
        ("/admin/reports", None),
        ("/admin/audit", None),
        ("/account/sessions", None),
        ("/account/password", None),
        ("/account/mail", None),
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
        assert visit.server_csp_seen


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
    room_id = open_room(admin)
    visit = open_visit("en", name="nojs", javascript=False)
    visit.log_in(BOB.user_id, BOB.password)
    tomorrow = (datetime.now(SITE_TZ) + timedelta(days=1)).date().isoformat()
    page = visit.goto(f"/rooms/{room_id}?date={tomorrow}")
    # Without script a free slot is a link that fills the form through the address.
    page.get_by_role("link", name="Free — choose 14:00").click()
    expect(page.get_by_label("Start", exact=True)).to_have_value("14:00")
    expect(page.get_by_label("End", exact=True)).to_have_value("14:30")
    page.get_by_role("button", name="Reserve this time").click()
    expect(page.get_by_role("status")).to_have_text("Your reservation is confirmed.")
    expect(page.get_by_role("row", name=re.compile("^14:00–14:30"))).to_contain_text(
        "Reserved by you"
    )
    visit.assert_clean()


@pytest.mark.parametrize("language", ["en", "ja"])
def test_a_typed_date_waits_for_enter_and_keeps_the_focus(
    open_visit: VisitFactory, language: str
) -> None:
    visit = open_visit(language, name="date-typing")
    visit.log_in(ALICE.user_id, ALICE.password)
    page = visit.goto("/rooms")
    shown = page.url
    field = page.locator("#date")
    field.focus()
    # Changing one segment from the keyboard makes a whole new date at once: the old page
    # jumped there before the rest was typed.
    page.keyboard.press("ArrowUp")
    page.wait_for_timeout(700)
    assert page.url == shown
    chosen = field.input_value()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf".*date={chosen}.*"))
    expect(page.locator("#date")).to_be_focused()
    expect(page.get_by_role("link", name=visit.t("Today"))).to_be_visible()
    visit.assert_clean()


@pytest.mark.parametrize("language", ["en", "ja"])
def test_slots_answer_space_look_free_and_never_show_a_backwards_range(
    open_visit: VisitFactory, language: str
) -> None:
    admin = open_visit(language, name="admin-slots")
    admin.log_in(ADMIN.user_id, ADMIN.password)
    room_id = open_room(admin)
    visit = open_visit(language, name="slots-keyboard")
    visit.log_in(BOB.user_id, BOB.password)
    tomorrow = (datetime.now(SITE_TZ) + timedelta(days=1)).date().isoformat()
    page = visit.goto(f"/rooms/{room_id}?date={tomorrow}")
    start, end = (
        page.get_by_label(visit.t("Start"), exact=True),
        page.get_by_label(visit.t("End"), exact=True),
    )
    free_row = page.locator("tr.free").first
    background = free_row.locator("td").evaluate("td => getComputedStyle(td).backgroundColor")
    assert background not in ("rgba(0, 0, 0, 0)", "rgb(255, 255, 255)")
    page.get_by_role("button", name=visit.t("Free — choose {start}", start="14:00")).focus()
    page.keyboard.press("Space")
    expect(start).to_have_value("14:00")
    expect(end).to_have_value("14:30")
    start.select_option("15:00")  # after the end: the end follows
    expect(end).to_have_value("15:30")
    selection = page.locator("[data-selection]")
    expect(selection).to_have_text("15:00–15:30")
    end.select_option("14:00")
    expect(selection).to_have_text(visit.t("The end must be after the start."))
    assert "00:00" not in start.locator("option").all_inner_texts()
    visit.assert_clean()


@pytest.mark.parametrize("language", ["en", "ja"])
def test_on_a_phone_the_header_is_small_and_the_form_stays_near_the_slots(
    open_visit: VisitFactory, language: str
) -> None:
    admin = open_visit(language, name="admin-phone")
    admin.log_in(ADMIN.user_id, ADMIN.password)
    room_id = open_room(admin)
    phone = open_visit(language, width=390, height=844, name="phone-form")
    phone.log_in(BOB.user_id, BOB.password)
    tomorrow = (datetime.now(SITE_TZ) + timedelta(days=1)).date().isoformat()
    page = phone.goto(f"/rooms/{room_id}?date={tomorrow}")
    header = page.locator(".site-header").bounding_box()
    assert header is not None
    assert header["height"] <= 110
    tops = page.locator(".main-nav li").evaluate_all("items => items.map(i => i.offsetTop)")
    assert len(set(tops)) == 1, "the navigation wraps onto several lines"
    page.get_by_role("button", name=phone.t("Free — choose {start}", start="18:00")).click()
    button = page.get_by_role("button", name=phone.t("Reserve this time")).bounding_box()
    assert button is not None
    assert button["y"] >= 0
    assert button["y"] + button["height"] <= 844
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    phone.assert_clean()
