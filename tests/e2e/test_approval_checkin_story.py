"""The board-room story in a real browser, in English and in Japanese at phone width.

A secretary books the board room for her manager (she is his delegate). The room needs
approval, so the booking waits; the room's manager approves it. The meeting's start and
the grace period pass with nobody checking in, the release job runs, and the room is free
again: the manager's booking reads "released" and the slot can be chosen on the room's day.

Time has to pass here, so the app runs on a pinned clock in this process
(`clocked_server`), on its own PostgreSQL database; every page is axe-core clean.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta

import httpx
import pytest
from playwright.sync_api import expect

from mrs.accounts import users
from mrs.accounts.models import Role, UserStatus
from mrs.db.engine import Database
from mrs.reservations import release
from mrs.rooms import service as rooms_service
from tests import support
from tests.conftest import PINNED_NOW
from tests.e2e.clocked_server import ClockedSite, serve_on_clock
from tests.e2e.conftest import VisitFactory

pytestmark = pytest.mark.slow

pytest.importorskip("axe_playwright_python.sync_playwright")

PASSWORD = "board-room-story-42"
PHONE = {"width": 390, "height": 844}
GRACE = 10


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, template_database: str) -> Iterator[ClockedSite]:
    with support.throwaway_database("mrs_story", template=template_database) as url:
        yield from serve_on_clock(url, tmp_path_factory.mktemp("story"), PINNED_NOW)


@pytest.fixture(scope="module")
def base_url(site: ClockedSite) -> str:
    """The browser fixtures (`open_visit`) visit the clocked site."""
    return site.base_url


def _people_and_room(site: ClockedSite, suffix: str) -> tuple[dict[str, str], int]:
    """An admin, a manager and his secretary, the room's manager, and the board room."""
    people = {
        "admin": f"admin{suffix}",
        "boss": f"boss{suffix}",
        "secretary": f"secretary{suffix}",
        "facilities": f"facilities{suffix}",
    }
    names = {"admin": "Aiko", "boss": "Kenji", "secretary": "Sachiko", "facilities": "Fumio"}

    async def setup(db: Database) -> int:
        for who, user_id in people.items():
            await users.create_user(
                db,
                user_id=user_id,
                password=PASSWORD,
                email=f"{user_id}@example.com",
                first_name=names[who],
                last_name=who.capitalize(),
                role=Role.ADMIN if who == "admin" else Role.USER,
                status=UserStatus.ACTIVE,
                now=site.clock(),
            )
        room = await rooms_service.create_room(
            db, room_name=f"Board room {suffix}", capacity=12, location="10F"
        )
        today = site.clock().astimezone(site.settings.tz).date()
        await rooms_service.open_room(
            db,
            room_id=room.room_id,
            from_date=today,
            to_date=today + timedelta(days=6),
            weekdays=None,
        )
        return room.room_id

    room_id = site.run(setup)
    with httpx.Client(base_url=site.base_url) as api:

        def bearer(user_id: str) -> dict[str, str]:
            answer = api.post("/api/auth/login", json={"user_id": user_id, "password": PASSWORD})
            assert answer.status_code == 200, answer.text
            api.cookies.clear()
            return {"Authorization": f"Bearer {answer.json()['access_token']}"}

        admin = bearer(people["admin"])
        policy = {
            "approval_required": True,
            "checkin_required": True,
            "checkin_grace_minutes": GRACE,
        }
        for path, body, headers in (
            (f"/api/admin/rooms/{room_id}/policy", policy, admin),
            (
                f"/api/admin/rooms/{room_id}/managers",
                {"user_ids": [people["facilities"]]},
                admin,
            ),
            ("/api/me/delegates", {"user_ids": [people["secretary"]]}, bearer(people["boss"])),
        ):
            answer = api.put(path, json=body, headers=headers)
            assert answer.status_code == 200, f"{path}: {answer.text}"
    return people, room_id


@pytest.mark.parametrize("language", ["en", "ja"])
def test_a_secretary_books_the_board_room_it_is_approved_nobody_comes_it_is_released(
    site: ClockedSite, open_visit: VisitFactory, language: str
) -> None:
    site.clock.now = PINNED_NOW  # Monday 09:00 in Tokyo
    people, room_id = _people_and_room(site, language)
    size = PHONE if language == "ja" else {}
    meeting_day: date = (PINNED_NOW + timedelta(days=1)).date()
    title = {"en": "Board meeting", "ja": "取締役会"}[language]

    # The secretary books for her manager: the room needs approval, so it waits.
    secretary = open_visit(language, name=f"story-secretary-{language}", **size)
    secretary.log_in(people["secretary"], PASSWORD)
    page = secretary.goto(f"/rooms/{room_id}?date={meeting_day.isoformat()}&start=10:00&end=11:00")
    page.get_by_label(secretary.t("Book for")).select_option(people["boss"])
    page.locator("#title").fill(title)
    page.get_by_role("button", name=secretary.t("Reserve this time")).click()
    page.wait_for_url(re.compile(r".*done=reserved_pending"))
    expect(page.get_by_text(secretary.t("Waiting for approval")).first).to_be_visible()
    secretary.assert_accessible()

    # The room's manager sees it among the bookings waiting and approves it.
    facilities = open_visit(language, name=f"story-facilities-{language}", **size)
    facilities.log_in(people["facilities"], PASSWORD)
    page = facilities.goto("/rooms")
    page.get_by_role("link", name=facilities.t("Approvals"), exact=True).first.click()
    page.wait_for_url(re.compile(r".*/admin/approvals$"))
    expect(page.get_by_text(title)).to_be_visible()
    facilities.assert_accessible()
    approve = page.locator('form[action$="/approve"]').get_by_role("button")
    expect(approve).to_have_count(1)
    approve.click()
    page.wait_for_url(re.compile(r".*done=approved"))
    expect(page.locator('form[action$="/approve"]')).to_have_count(0)
    facilities.assert_accessible()

    # The manager sees his meeting, booked for him and confirmed.
    boss = open_visit(language, name=f"story-boss-{language}", **size)
    boss.log_in(people["boss"], PASSWORD)
    page = boss.goto("/reservations")
    meeting = page.get_by_role("link", name=title)
    expect(meeting).to_be_visible()
    expect(page.get_by_text(boss.t("Waiting for approval"))).to_have_count(0)
    meeting.click()
    page.wait_for_url(re.compile(r".*/reservations/\d+$"))
    booking_url = page.url
    boss.assert_accessible()

    # Nobody checks in: at 10:00 + grace the release job frees the room.
    site.clock.now = datetime.combine(
        meeting_day, datetime.min.time(), tzinfo=PINNED_NOW.tzinfo
    ) + timedelta(hours=10, minutes=GRACE, seconds=1)

    async def run_release(db: Database) -> list[int]:
        return await release.release_no_shows(db, settings=site.settings, now=site.clock())

    released = site.run(run_release)
    assert len(released) == 1
    assert site.run(run_release) == [], "a second run releases nothing more"

    page = boss.goto(booking_url.removeprefix(site.base_url))
    expect(page.get_by_text(boss.t("Released: nobody checked in"))).to_be_visible()
    boss.assert_accessible()
    # The meeting's remaining time is free for anyone again.
    page = boss.goto(f"/rooms/{room_id}?date={meeting_day.isoformat()}")
    expect(page.get_by_text(title)).to_have_count(0)
    expect(
        page.get_by_role("button", name=boss.t("Free — choose {start}", start="10:30"))
    ).to_be_visible()
    boss.assert_accessible()
