"""The reservation story of tests/e2e/web_reservation.feature, in a real browser."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect
from pytest_bdd import given, parsers, scenarios, then, when

from mrs.i18n import display_name, format_day
from tests.e2e.browsing import Visit
from tests.e2e.conftest import ADMIN, ALICE, BOB, VisitFactory

scenarios("web_reservation.feature")

pytestmark = pytest.mark.slow

LANGUAGES = {"English": "en", "Japanese": "ja"}
# The server runs with the default site time zone.
SITE_TZ = ZoneInfo("Asia/Tokyo")
# What each language must literally show (the catalogs are checked apart; this proves the
# browser really got the language).
CONFIRMED = {"en": "Your reservation is confirmed.", "ja": "予約が確定しました。"}


def site_today() -> date:
    return datetime.now(SITE_TZ).date()


@dataclass
class Story:
    language: str = "en"
    room_name: str = ""
    room_id: int = 0
    day: date = field(default_factory=lambda: site_today() + timedelta(days=1))
    visits: dict[str, Visit] = field(default_factory=dict)


@pytest.fixture
def story() -> Story:
    return Story()


def _slot_row(visit: Visit, start: str, end: str) -> object:
    return visit.page.get_by_role("row", name=re.compile(rf"^{start}–{end}"))


@given(parsers.parse("the pages are shown in {language}"))
def pages_in(story: Story, language: str) -> None:
    story.language = LANGUAGES[language]


@given("the administrator has created a room and opened it for the next two weeks")
def admin_opens_a_room(story: Story, open_visit: VisitFactory) -> None:
    admin = story.visits["admin"] = open_visit(story.language, name="admin")
    admin.log_in(ADMIN.user_id, ADMIN.password)
    page = admin.page
    page.get_by_role("link", name=admin.t("Manage rooms")).click()
    story.room_name = f"Sakura {story.language.upper()} {uuid.uuid4().hex[:4]}"
    page.get_by_label(admin.t("Name")).fill(story.room_name)
    page.get_by_label(admin.t("Seats (optional)")).fill("6")
    page.get_by_label(admin.t("Location (optional)")).fill("3F")
    # Opened by hand below: every one of the fourteen dates is new.
    page.get_by_label(admin.t("Open automatically")).uncheck()
    admin.shot("admin-rooms")
    page.get_by_role("button", name=admin.t("Create room")).click()
    page.wait_for_url(re.compile(r".*/admin/rooms/\d+\?done=room_created"))
    story.room_id = int(re.findall(r"/admin/rooms/(\d+)", page.url)[0])

    today = site_today()
    page.get_by_label(admin.t("From")).fill(today.isoformat())
    page.get_by_label(admin.t("To (inclusive)")).fill((today + timedelta(days=13)).isoformat())
    for weekday in ("Saturday", "Sunday"):
        page.get_by_label(admin.t(weekday)).check()
    page.get_by_role("button", name=admin.t("Open these dates")).click()
    expect(page.get_by_role("status")).to_have_text(
        admin.t("The room is now open on {count} more date(s).", count=14)
    )
    admin.shot("admin-room")
    admin.log_out()


@when("Alice logs in and opens the room's day for tomorrow")
def alice_opens_the_day(story: Story, open_visit: VisitFactory) -> None:
    alice = story.visits["alice"] = open_visit(story.language, name="alice")
    alice.log_in(ALICE.user_id, ALICE.password)
    page = alice.page
    page.get_by_role("link", name=alice.t("Next day")).click()
    page.wait_for_url(re.compile(rf".*/rooms\?date={story.day.isoformat()}"))
    long_date = format_day(story.language, story.day)
    expect(page.get_by_role("heading", level=1)).to_have_text(
        alice.t("Rooms on {date}", date=long_date)
    )
    alice.shot("rooms")
    page.get_by_role("link", name=story.room_name, exact=True).click()
    page.wait_for_url(re.compile(rf".*/rooms/{story.room_id}\?date={story.day.isoformat()}"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(story.room_name)


@when("she picks the free slots from 10:00 to 11:00 and reserves them")
def alice_reserves(story: Story) -> None:
    alice = story.visits["alice"]
    page = alice.page
    page.get_by_role("button", name=alice.t("Free — choose {start}", start="10:00")).click()
    page.get_by_role("button", name=alice.t("Free — choose {start}", start="10:30")).click()
    expect(page.get_by_label(alice.t("Start"), exact=True)).to_have_value("10:00")
    expect(page.get_by_label(alice.t("End"), exact=True)).to_have_value("11:00")
    alice.shot("room-day")
    page.get_by_role("button", name=alice.t("Reserve this time")).click()
    page.wait_for_url(re.compile(r".*done=reserved"))


@then("she sees that her reservation is confirmed")
def alice_sees_confirmation(story: Story) -> None:
    alice = story.visits["alice"]
    expect(alice.page.get_by_role("status")).to_have_text(CONFIRMED[story.language])


@then("the slots from 10:00 to 11:00 show that she reserved them")
def slots_are_hers(story: Story) -> None:
    alice = story.visits["alice"]
    for start, end in (("10:00", "10:30"), ("10:30", "11:00")):
        expect(_slot_row(alice, start, end)).to_contain_text(alice.t("Reserved by you"))
    expect(_slot_row(alice, "11:00", "11:30")).to_contain_text(
        alice.t("Free — choose {start}", start="11:00")
    )
    alice.shot("reserved")


@when("Bob tries to reserve the same room from 10:30 to 11:30")
def bob_tries(story: Story, open_visit: VisitFactory) -> None:
    bob = story.visits["bob"] = open_visit(story.language, name="bob")
    bob.log_in(BOB.user_id, BOB.password)
    page = bob.goto(f"/rooms/{story.room_id}?date={story.day.isoformat()}")
    page.get_by_label(bob.t("Start"), exact=True).select_option("10:30")
    page.get_by_label(bob.t("End"), exact=True).select_option("11:30")
    page.get_by_role("button", name=bob.t("Reserve this time")).click()
    page.wait_for_load_state()


@then("Bob is told that Alice's reservation from 10:00 to 11:00 is in the way")
def bob_sees_conflict(story: Story) -> None:
    bob = story.visits["bob"]
    expect(bob.page.get_by_role("alert")).to_have_text(
        bob.t(
            "This time overlaps the reservation of {name} from {start} to {end}. "
            "Choose another time.",
            name=display_name(bob.language, ALICE.first_name, ALICE.last_name),
            start="10:00",
            end="11:00",
        )
    )
    bob.shot("conflict")


@then("his chosen times are still in the form")
def bob_form_kept(story: Story) -> None:
    bob = story.visits["bob"]
    expect(bob.page.get_by_label(bob.t("Start"), exact=True)).to_have_value("10:30")
    expect(bob.page.get_by_label(bob.t("End"), exact=True)).to_have_value("11:30")


@when("Alice cancels the reservation on her reservations page")
def alice_cancels(story: Story) -> None:
    alice = story.visits["alice"]
    page = alice.page
    page.get_by_role("link", name=alice.t("My reservations")).click()
    item = page.get_by_role("listitem").filter(has_text=story.room_name)
    expect(item).to_contain_text("10:00–11:00")
    alice.shot("my-reservations")
    item.get_by_role("link", name=re.compile(re.escape(alice.t("Cancel")))).click()
    # A confirmation page asks first (no script dialog: the CSP forbids inline script).
    expect(page.get_by_role("heading", level=1)).to_have_text(alice.t("Cancel this reservation?"))
    page.get_by_role("button", name=alice.t("Cancel the reservation")).click()
    page.wait_for_url(re.compile(r".*/reservations\?done=cancelled"))


@then("the reservation is shown as cancelled")
def shown_cancelled(story: Story) -> None:
    alice = story.visits["alice"]
    page = alice.page
    expect(page.get_by_role("status")).to_have_text(alice.t("The reservation was cancelled."))
    item = page.get_by_role("listitem").filter(has_text=story.room_name)
    expect(item).to_contain_text(alice.t("Cancelled"))
    expect(item.get_by_role("link", name=re.compile(re.escape(alice.t("Cancel"))))).to_have_count(0)
    alice.shot("cancelled")


@then("no page showed a console error or broke the Content-Security-Policy")
def pages_were_clean(story: Story) -> None:
    for visit in story.visits.values():
        visit.assert_clean()
        assert visit.server_csp_seen
