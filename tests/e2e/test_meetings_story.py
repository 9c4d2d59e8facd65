"""Meetings in a real browser, in English and Japanese: find a free room for 6 with a
projector, book it with a title and two attendees (chosen from the type-ahead with the
keyboard), see it in both attendees' week, move it by editing, and an administrator
cancelling it with a reason that is mailed to the owner. Every page is axe-core clean; one
story runs at phone width with the attendees typed as comma-separated ids (the field's
form without the type-ahead)."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browsing import SITE_TZ, Visit
from tests.e2e.conftest import ADMIN, ALICE, BOB, VisitFactory

axe_playwright = pytest.importorskip("axe_playwright_python.sync_playwright")

PROJECTOR = {"code": "projector", "name_en": "Projector", "name_ja": "プロジェクター"}


def _axe_clean(visit: Visit) -> None:
    results = axe_playwright.Axe().run(visit.page)
    assert results.violations_count == 0, results.generate_report()


def _day_after_tomorrow() -> str:
    return (datetime.now(SITE_TZ) + timedelta(days=2)).date().isoformat()


@contextmanager
def _admin_api(base_url: str) -> Iterator[httpx.Client]:
    """The JSON API as the administrator (Bearer token: no CSRF)."""
    with httpx.Client(base_url=base_url, verify=False, timeout=30) as client:
        token = client.post(
            "/api/auth/login", json={"user_id": ADMIN.user_id, "password": ADMIN.password}
        ).json()["access_token"]
        client.headers["Authorization"] = f"Bearer {token}"
        yield client


def _room_for_six_with_a_projector(base_url: str) -> str:
    """A new room for 6 with a projector, open every day of the coming week; its name."""
    name = f"Meet {uuid.uuid4().hex[:6]}"
    today = datetime.now(SITE_TZ).date()
    with _admin_api(base_url) as api:
        made = api.post("/api/admin/equipment", json=PROJECTOR)
        assert made.status_code in (201, 409), made.text
        room = api.post(
            "/api/admin/rooms",
            json={
                "room_name": name,
                "capacity": 6,
                "equipment": ["projector"],
                "opening": {"weekdays": [1, 2, 3, 4, 5, 6, 7], "start_time": "08:00"},
            },
        )
        assert room.status_code == 201, room.text
        opened = api.post(
            f"/api/admin/rooms/{room.json()['room_id']}/open",
            json={
                "from_date": today.isoformat(),
                "to_date": (today + timedelta(days=7)).isoformat(),
            },
        )
        assert opened.status_code == 200, opened.text
    return name


def _choose_attendee(page: Page, typed: str, user_id: str) -> None:
    """Type part of a name in the attendees combobox and pick it with the keyboard."""
    field = page.locator("#attendees")
    field.press_sequentially(typed, delay=30)
    option = page.locator("#attendees-suggestions [role=option]", has_text=f"({user_id})")
    expect(option).to_be_visible()
    expect(field).to_have_attribute("aria-expanded", "true")
    for _ in range(page.locator("#attendees-suggestions [role=option]").count()):
        field.press("ArrowDown")
        if option.get_attribute("aria-selected") == "true":
            break
    expect(field).to_have_attribute("aria-activedescendant", re.compile(r"attendees-option-"))
    field.press("Enter")
    expect(field).to_have_value(re.compile(rf"(^|, ){user_id}, $"))


@pytest.mark.parametrize(
    ("language", "start", "end"), [("en", "10:00", "11:00"), ("ja", "13:00", "14:00")]
)
def test_a_meeting_from_search_to_an_admin_cancelling_it(
    open_visit: VisitFactory, base_url: str, language: str, start: str, end: str
) -> None:
    room_name = _room_for_six_with_a_projector(base_url)
    day = _day_after_tomorrow()
    title = f"Design review {uuid.uuid4().hex[:4]}"

    # Alice finds a free room for 6 with a projector and books it, keyboard only.
    alice = open_visit(language, name="meeting-alice")
    alice.log_in(ALICE.user_id, ALICE.password)
    page = alice.goto("/search")
    page.get_by_label(alice.t("Date")).fill(day)
    page.get_by_label(alice.t("Start time")).select_option(start)
    page.get_by_label(alice.t("End time")).select_option(end)
    page.get_by_label(alice.t("Seats at least")).fill("6")
    page.get_by_label(PROJECTOR["name_ja" if language == "ja" else "name_en"]).check()
    page.get_by_label(alice.t("Seats at least")).press("Enter")
    page.wait_for_url(re.compile(r".*/search\?.*"))
    book = page.get_by_role("link", name=f"{alice.t('Book this room')} ({room_name})")
    book.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf".*/rooms/\d+\?date={day}&start={start}&end={end}"))
    expect(page.locator("#start_time")).to_have_value(start)
    expect(page.locator("#end_time")).to_have_value(end)
    page.locator("#title").focus()
    page.keyboard.type(title)
    page.keyboard.press("Tab")  # to the description
    page.keyboard.type("Screens and the projector")
    page.locator("#attendees").focus()
    _choose_attendee(page, "bob", BOB.user_id)
    _choose_attendee(page, ADMIN.user_id[:5], ADMIN.user_id)
    _axe_clean(alice)
    alice.shot("meeting-booking-form")
    page.get_by_role("button", name=alice.t("Reserve this time")).focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*done=reserved"))
    meeting = page.get_by_role("link", name=title)
    expect(meeting).to_be_visible()
    meeting.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/reservations/\d+$"))
    reservation_url = page.url
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    _axe_clean(alice)

    # Both attendees see it in their week.
    for person in (BOB, ADMIN):
        visit = open_visit(language, name=f"meeting-{person.user_id}")
        visit.log_in(person.user_id, person.password)
        week = visit.goto(f"/my/week?date={day}")
        expect(week.get_by_text(title)).to_be_visible()
        if person is BOB:
            _axe_clean(visit)
            mine = visit.goto("/reservations")
            expect(mine.get_by_text(visit.t("You attend")).first).to_be_visible()
            _axe_clean(visit)

    # Alice moves it an hour later with the edit form.
    page = alice.goto(reservation_url)
    page.get_by_role("link", name=alice.t("Change or move")).click()
    page.wait_for_url(re.compile(r".*/edit$"))
    _axe_clean(alice)
    alice.shot("meeting-edit-form")
    later_start = f"{int(start[:2]) + 1:02d}:00"
    later_end = f"{int(end[:2]) + 1:02d}:00"
    page.get_by_label(alice.t("Start time")).select_option(later_start)
    page.get_by_label(alice.t("End time")).select_option(later_end)
    page.get_by_role("button", name=alice.t("Save the changes")).click()
    page.wait_for_url(re.compile(r".*done=changed"))
    expect(page.get_by_text(f"{later_start}–{later_end}")).to_be_visible()

    # An administrator cancels it with a reason; the owner's mail is queued.
    admin = open_visit(language, name="meeting-admin")
    admin.log_in(ADMIN.user_id, ADMIN.password)
    page = admin.goto(reservation_url)
    page.get_by_role("link", name=admin.t("Cancel…")).click()
    page.get_by_label(admin.t("Reason (mailed to the person who reserved)")).fill(
        "The board needs the room"
    )
    _axe_clean(admin)
    page.get_by_role("button", name=admin.t("Cancel the reservation")).click()
    page.wait_for_url(re.compile(r".*done=cancelled"))
    expect(page.get_by_text(admin.t("Cancelled"), exact=True)).to_be_visible()
    # The invitation job turns changes into mail every few seconds
    # (MRS_CALENDAR_MAIL_INTERVAL_SECONDS): wait for it, a bounded while.
    deadline = time.monotonic() + 30
    with _admin_api(base_url) as api:
        while True:
            outbox = api.get("/api/admin/mail-outbox").json()
            if any(
                mail["recipient"] == f"{ALICE.user_id}@example.com" and room_name in mail["subject"]
                for mail in outbox["mails"]
            ):
                break
            assert time.monotonic() < deadline, outbox
            time.sleep(0.5)
    for visit in (alice, admin):
        visit.assert_clean()


@pytest.mark.parametrize("language", ["en", "ja"])
def test_at_phone_width_a_private_meeting_is_booked_with_typed_attendee_ids(
    open_visit: VisitFactory, base_url: str, language: str
) -> None:
    room_name = _room_for_six_with_a_projector(base_url)
    phone = open_visit(language, width=390, height=844, name="meeting-phone")
    phone.log_in(BOB.user_id, BOB.password)
    day = _day_after_tomorrow()
    page = phone.goto(f"/search?date={day}&start_time=16:00&end_time=17:00&capacity=6")
    page.get_by_role("link", name=f"{phone.t('Book this room')} ({room_name})").click()
    page.wait_for_url(re.compile(r".*/rooms/\d+\?.*start=16:00"))
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    _axe_clean(phone)
    phone.shot("meeting-phone-form")
    title = f"Phone sync {uuid.uuid4().hex[:4]}"
    page.get_by_label(phone.t("Title"), exact=True).fill(title)
    page.get_by_label(phone.t("Private: others see only “Reserved” and who reserved it")).check()
    page.get_by_label(phone.t("Attendees"), exact=True).fill(f"{ALICE.user_id}, {ADMIN.user_id}")
    page.get_by_role("button", name=phone.t("Reserve this time")).click()
    page.wait_for_url(re.compile(r".*done=reserved"))
    page = phone.goto(f"/my/week?date={day}")
    expect(page.get_by_text(title)).to_be_visible()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    phone.assert_clean()
