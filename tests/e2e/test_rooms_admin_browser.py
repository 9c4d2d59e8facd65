"""The room pages in a real browser: an administrator keeps the equipment list, describes
a room (description, equipment, opening rule) and adds a closure day with the keyboard
alone; everyone sees what the room offers and only its bookable hours. In English and
Japanese, axe-core clean, and at phone width without sideways scrolling or a wrapping nav."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browsing import SITE_TZ, Visit
from tests.e2e.conftest import ADMIN, ALICE, VisitFactory

axe_playwright = pytest.importorskip("axe_playwright_python.sync_playwright")

PHONE = {"width": 390, "height": 844}


def _axe_clean(visit: Visit) -> None:
    results = axe_playwright.Axe().run(visit.page)
    assert results.violations_count == 0, results.generate_report()


def _no_sideways_scroll(page: Page) -> None:
    wide = page.evaluate(
        "() => [...document.querySelectorAll('body *')].filter(e => !e.closest('.main-nav ul') && !e.closest('.table-scroll') && e.getBoundingClientRect().right > window.innerWidth + 1).slice(0, 8).map(e => e.tagName + '.' + e.className + '#' + e.id + ' ' + Math.round(e.getBoundingClientRect().right))"
    )
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1"), (
        f"{page.url} scrolls sideways at phone width: {wide}"
    )


def _nav_on_one_line(page: Page) -> None:
    """The nav's links stay in one row (the row scrolls sideways on its own)."""
    tops = page.evaluate(
        "() => [...document.querySelectorAll('.main-nav li')].map(li => li.offsetTop)"
    )
    assert len(set(tops)) == 1, tops


def _type_into(page: Page, label: str, text: str) -> None:
    field = page.get_by_label(label, exact=True)
    field.focus()
    page.keyboard.press("Control+A")
    page.keyboard.type(text)


def _tick(page: Page, label: str) -> None:
    """Tick a checkbox with the space bar (unticked first, so the result is known)."""
    box = page.get_by_label(label, exact=True)
    box.focus()
    if not box.is_checked():
        page.keyboard.press("Space")
    expect(box).to_be_checked()


def _untick(page: Page, label: str) -> None:
    box = page.get_by_label(label, exact=True)
    box.focus()
    if box.is_checked():
        page.keyboard.press("Space")
    expect(box).not_to_be_checked()


def _choose_time(page: Page, label: str, time: str) -> None:
    """Pick a time in a select with the keyboard: focus it and type the time."""
    select = page.get_by_label(label, exact=True)
    select.focus()
    page.keyboard.type(time)
    expect(select).to_have_value(time)


@pytest.mark.parametrize("language", ["en", "ja"])
def test_an_admin_describes_a_room_and_everyone_sees_it(
    open_visit: VisitFactory, language: str
) -> None:
    admin = open_visit(language, name="rooms-admin")
    admin.log_in(ADMIN.user_id, ADMIN.password)
    t = admin.t
    suffix = uuid.uuid4().hex[:6]

    # The equipment list: add an item with the keyboard alone.
    page = admin.goto("/admin/equipment")
    expect(page.get_by_role("link", name=t("Equipment"), exact=True)).to_have_attribute(
        "aria-current", "page"
    )
    code = f"screen-{suffix}"
    _type_into(page, t("Code"), code)
    _type_into(page, t("English name"), f"Screen {suffix}")
    _type_into(page, t("Japanese name"), f"スクリーン{suffix}")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/admin/equipment\?done=equipment_added"))
    expect(page.get_by_role("status")).to_have_text(t("The equipment was added to the list."))
    _axe_clean(admin)
    admin.shot("equipment")
    shown_name = f"スクリーン{suffix}" if language == "ja" else f"Screen {suffix}"

    # A new room with a description, that equipment and its bookable hours.
    page = admin.goto("/admin/rooms")
    _axe_clean(admin)
    room_name = f"Keyboard {suffix}"
    _type_into(page, t("Name"), room_name)
    _type_into(page, t("Seats (optional)"), "6")
    _type_into(page, t("Location (optional)"), "5F")
    _type_into(page, t("Description (optional)"), "A bright room by the stairs.")
    _tick(page, shown_name)
    for day in ("Sat", "Sun"):
        _tick(page, t(day))
    _choose_time(page, t("Opens at"), "09:00")
    _choose_time(page, t("Closes at"), "18:00")
    _untick(page, t("Open automatically"))
    page.get_by_role("button", name=t("Create room")).focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/admin/rooms/\d+\?done=room_created"))
    room_id = int(re.findall(r"/admin/rooms/(\d+)", page.url)[0])
    expect(page.get_by_label(shown_name, exact=True)).to_be_checked()
    expect(page.get_by_label(t("Opens at"), exact=True)).to_have_value("09:00")
    _axe_clean(admin)
    admin.shot("room-details")

    # A refused rule is said next to its field (and the page stays accessible).
    _choose_time(page, t("Closes at"), "08:00")
    page.get_by_role("button", name=t("Save"), exact=True).focus()
    page.keyboard.press("Enter")
    expect(page.locator("#opening-error")).to_be_visible()
    _axe_clean(admin)

    # Open it for the coming week by hand.
    page = admin.goto(f"/admin/rooms/{room_id}")
    today = datetime.now(SITE_TZ).date()
    tomorrow = today + timedelta(days=1)
    page.get_by_label(t("To (inclusive)")).fill((today + timedelta(days=7)).isoformat())
    for weekday in ("Saturday", "Sunday"):
        page.get_by_label(t(weekday)).check()
    page.get_by_role("button", name=t("Open these dates")).click()
    page.wait_for_url(re.compile(r".*done=opened"))

    # Everyone: the rooms list and the room's day say what it offers; only 09:00-18:00.
    alice = open_visit(language, name="rooms-alice")
    alice.log_in(ALICE.user_id, ALICE.password)
    page = alice.goto(f"/rooms?date={tomorrow.isoformat()}")
    card = page.locator(".room-card", has_text=room_name)
    expect(card).to_contain_text("A bright room by the stairs.")
    expect(card).to_contain_text(shown_name)
    expect(card).to_contain_text(alice.t("Bookable {start}–{end}", start="09:00", end="18:00"))
    _axe_clean(alice)
    page = alice.goto(f"/rooms/{room_id}?date={tomorrow.isoformat()}")
    expect(page.locator(".equipment-list")).to_contain_text(shown_name)
    starts = page.get_by_label(alice.t("Start"), exact=True).locator("option").all_inner_texts()
    assert "08:30" not in starts
    assert starts[-1] == "17:30"
    _axe_clean(alice)
    alice.shot("room-day-details")

    # A closure day on a date with no bookings, with the keyboard.
    page = admin.goto("/admin/closure-days")
    closure = today + timedelta(days=300 + (0 if language == "en" else 1))
    date_field = page.get_by_label(t("Date"), exact=True)
    date_field.fill(closure.isoformat())
    _type_into(page, t("Label"), f"Holiday {suffix}")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/admin/closure-days\?done=closure_added"))
    expect(page.get_by_role("row", name=re.compile(f"Holiday {suffix}"))).to_be_visible()
    _axe_clean(admin)
    admin.shot("closure-days")
    page.get_by_role("row", name=re.compile(f"Holiday {suffix}")).get_by_role("button").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*done=closure_deleted"))

    # Deleting the equipment asks first (a page, no script), then it is gone.
    page = admin.goto(f"/admin/equipment/{code}/delete")
    expect(page.get_by_role("link", name=room_name)).to_be_visible()
    _axe_clean(admin)
    page.get_by_role("button", name=t("Delete it")).focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*done=equipment_deleted"))


@pytest.mark.parametrize("language", ["en", "ja"])
def test_the_admin_room_pages_fit_a_phone(open_visit: VisitFactory, language: str) -> None:
    admin = open_visit(language, name="rooms-phone", **PHONE)
    admin.log_in(ADMIN.user_id, ADMIN.password)
    page = admin.goto("/admin/rooms")
    room_link = page.locator("table a[href^='/admin/rooms/']").first
    paths = ["/admin/rooms", "/admin/equipment", "/admin/closure-days", "/rooms"]
    if room_link.count():
        paths.append(str(room_link.get_attribute("href")))
    for path in paths:
        page = admin.goto(path)
        _no_sideways_scroll(page)
        _nav_on_one_line(page)
        _axe_clean(admin)
    admin.shot("admin-rooms-phone", full_page=False)
