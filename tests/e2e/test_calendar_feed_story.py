"""Calendar subscription in a real browser, in English and Japanese: Bob opens the page
from the navigation, makes his subscription link with the keyboard and sees it (and a
room's) once; the link serves his calendar; he makes a new link and the old one answers
404 while the new one answers 200. Every page is axe-core clean; the Japanese story runs
at phone width; each ends by making a new link again in a browser without JavaScript."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browsing import SITE_TZ, Visit
from tests.e2e.conftest import ADMIN, BOB, VisitFactory

pytestmark = pytest.mark.slow

axe_playwright = pytest.importorskip("axe_playwright_python.sync_playwright")

PHONE = {"width": 390, "height": 844}


def _axe_clean(visit: Visit) -> None:
    results = axe_playwright.Axe().run(visit.page)
    assert results.violations_count == 0, results.generate_report()


def _published_room_with_a_meeting(base_url: str) -> tuple[int, str]:
    """A room that publishes its feed, with one of Bob's meetings tomorrow; its id and
    the meeting's title."""
    title = f"Feed check {uuid.uuid4().hex[:6]}"
    tomorrow = (datetime.now(SITE_TZ) + timedelta(days=1)).date().isoformat()
    with httpx.Client(base_url=base_url, verify=False, timeout=30) as api:
        for person in (ADMIN, BOB):
            token = api.post(
                "/api/auth/login", json={"user_id": person.user_id, "password": person.password}
            ).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            if person is ADMIN:
                room = api.post(
                    "/api/admin/rooms",
                    json={
                        "room_name": f"Feed {uuid.uuid4().hex[:6]}",
                        "has_feed": True,
                        "opening": {"weekdays": [1, 2, 3, 4, 5, 6, 7], "auto_open": False},
                    },
                    headers=headers,
                )
                assert room.status_code == 201, room.text
                room_id = int(room.json()["room_id"])
                opened = api.post(
                    f"/api/admin/rooms/{room_id}/open",
                    json={"from_date": tomorrow, "to_date": tomorrow},
                    headers=headers,
                )
                assert opened.status_code == 200, opened.text
            else:
                booked = api.post(
                    f"/api/rooms/{room_id}/reservations",
                    json={
                        "date": tomorrow,
                        "start_time": "10:00",
                        "end_time": "11:00",
                        "title": title,
                    },
                    headers=headers,
                )
                assert booked.status_code == 201, booked.text
    return room_id, title


def _fetch(base_url: str, url: str) -> httpx.Response:
    assert url.startswith(base_url)
    return httpx.get(url, verify=False, timeout=30)


def _press(page: Page, name: str) -> None:
    button = page.get_by_role("button", name=name)
    button.focus()
    page.keyboard.press("Enter")


@pytest.mark.parametrize("language", ["en", "ja"])
def test_subscribe_link_shown_regenerated_and_the_old_one_refused(
    open_visit: VisitFactory, base_url: str, language: str
) -> None:
    room_id, title = _published_room_with_a_meeting(base_url)
    phone = language == "ja"
    bob = open_visit(language, name="calendar-bob", **(PHONE if phone else {}))
    bob.log_in(BOB.user_id, BOB.password)
    if phone:
        page = bob.goto("/account/calendar")
    else:
        page = bob.page
        link = page.get_by_role("link", name=bob.t("Calendar subscription"))
        link.focus()
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r".*/account/calendar$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(bob.t("Calendar subscription"))
    expect(page.get_by_role("heading", name=bob.t("How to subscribe"))).to_be_visible()
    _axe_clean(bob)
    bob.shot("calendar-subscription")

    # Make the link (or a new one, when an earlier story left one): shown this once.
    made = bob.t("Make a new link")
    if page.get_by_role("button", name=made).count() == 0:
        made = bob.t("Make a subscription link")
    _press(page, made)
    own = page.get_by_label(bob.t("Your meetings"))
    expect(own).to_be_visible()
    first_url = own.input_value()
    assert re.fullmatch(rf"{re.escape(base_url)}/calendar/[A-Za-z0-9_-]{{43}}\.ics", first_url)
    room_url = page.locator(f"#room-feed-{room_id}").input_value()
    assert room_url == first_url.removesuffix(".ics") + f"/rooms/{room_id}.ics"
    _axe_clean(bob)
    bob.shot("calendar-link-shown")

    feed = _fetch(base_url, first_url)
    assert feed.status_code == 200
    assert feed.headers["content-type"].startswith("text/calendar")
    assert title in feed.text
    assert title in _fetch(base_url, room_url).text

    # Back on the page, the link is not shown again.
    page = bob.goto("/account/calendar")
    expect(page.get_by_label(bob.t("Your meetings"))).to_have_count(0)

    _press(page, bob.t("Make a new link"))
    expect(page.get_by_label(bob.t("Your meetings"))).to_be_visible()
    second_url = page.get_by_label(bob.t("Your meetings")).input_value()
    assert second_url != first_url
    assert _fetch(base_url, first_url).status_code == 404
    assert _fetch(base_url, room_url).status_code == 404
    assert _fetch(base_url, second_url).status_code == 200
    _axe_clean(bob)

    # Without JavaScript the page works the same (axe-core needs it: checked above).
    plain = open_visit(language, name="calendar-nojs", javascript=False)
    plain.log_in(BOB.user_id, BOB.password)
    page = plain.goto("/account/calendar")
    page.get_by_role("button", name=plain.t("Make a new link")).click()
    third_url = page.get_by_label(plain.t("Your meetings")).input_value()
    assert _fetch(base_url, second_url).status_code == 404
    assert _fetch(base_url, third_url).status_code == 200
