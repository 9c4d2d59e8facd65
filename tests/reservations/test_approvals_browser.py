"""The approvals page in a real browser, in English and Japanese (the Japanese one at
phone width): the administrator makes a room require approval on its policy page, Alice's
booking waits, the administrator is refused a rejection without a reason next to the
field, then rejects it with one. Every page is axe-core clean. (Uses the e2e server and
browser fixtures.)"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.e2e.browsing import SITE_TZ, Visit, open_room
from tests.e2e.conftest import (  # noqa: F401 - the e2e fixtures, used by name
    ADMIN,
    ALICE,
    VisitFactory,
    base_url,
    browser,
    open_visit,
    playwright,
)

pytestmark = pytest.mark.slow

pytest.importorskip("axe_playwright_python.sync_playwright")

PHONE = {"width": 390, "height": 844}


def _book_as_alice(visit: Visit, room_id: int) -> int:
    """Alice books tomorrow 10:00-11:00 through the API (her own browser context)."""
    api = visit.context.request
    login = api.post("/api/auth/login", data={"user_id": ALICE.user_id, "password": ALICE.password})
    assert login.ok, login.text()
    token = login.json()["access_token"]
    day = datetime.now(SITE_TZ).date() + timedelta(days=1)
    booked = api.post(
        f"/api/rooms/{room_id}/reservations",
        data={"date": day.isoformat(), "start_time": "10:00", "end_time": "11:00"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert booked.status == 201, booked.text()
    assert booked.json()["status"] == "PENDING"
    return int(booked.json()["reservation_id"])


@pytest.mark.parametrize("language", ["en", "ja"])
def test_an_admin_rejects_a_pending_booking_on_the_approvals_page(
    open_visit: VisitFactory,  # noqa: F811 - the fixture imported above
    language: str,
) -> None:
    size = PHONE if language == "ja" else {}
    admin = open_visit(language, name=f"approvals-{language}", **size)
    admin.log_in(ADMIN.user_id, ADMIN.password)
    page = admin.page
    room_id = open_room(admin)

    admin.goto(f"/admin/rooms/{room_id}/policy")
    page.get_by_label(admin.t("Bookings need approval")).check()
    page.get_by_role("button", name=admin.t("Save"), exact=True).click()
    page.wait_for_url(re.compile(r".*done=policy_saved"))
    admin.assert_accessible()

    alice = open_visit(language, name=f"approvals-alice-{language}")
    booking = _book_as_alice(alice, room_id)

    admin.goto("/rooms")
    page.get_by_role("link", name=admin.t("Approvals"), exact=True).first.click()
    page.wait_for_url(re.compile(r".*/admin/approvals$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(admin.t("Approvals"))
    admin.assert_accessible()

    form = page.locator(f'form[action="/admin/approvals/{booking}/reject"]')
    form.get_by_role("button").click()
    reason = page.locator(f"#reason-{booking}")
    expect(reason).to_have_attribute("aria-invalid", "true")
    admin.assert_accessible()
    reason.fill("The board meets then")
    page.locator(f'form[action="/admin/approvals/{booking}/reject"]').get_by_role("button").click()
    page.wait_for_url(re.compile(r".*done=rejected"))
    expect(page.locator(f'form[action="/admin/approvals/{booking}/reject"]')).to_have_count(0)
    admin.assert_accessible()
