"""The door page and the room's QR code in a real browser (the e2e server, real time), in
English and in Japanese at phone width: the admin asks for check-in in a room, a user
books its next slot, opens the door page signed out, logs in and lands back on it; the
admin finds the QR code on the room's page. Every page is axe-core clean."""

from __future__ import annotations

import re
from datetime import datetime

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.browsing import SITE_TZ, open_room
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
SLOT = 30


def _book_next_slot(site: str, room_id: int) -> bool:
    """Alice books the room's next slot today; False near midnight (no slot left today)."""
    now = datetime.now(SITE_TZ)
    minute = now.hour * 60 + now.minute
    start = (minute // SLOT + 1) * SLOT
    if start + SLOT > 24 * 60:
        return False
    with httpx.Client(base_url=site, verify=False, timeout=30) as api:
        token = api.post(
            "/api/auth/login", json={"user_id": ALICE.user_id, "password": ALICE.password}
        ).json()["access_token"]
        made = api.post(
            f"/api/rooms/{room_id}/reservations",
            json={
                "date": now.date().isoformat(),
                "start_time": f"{start // 60:02d}:{start % 60:02d}",
                "end_time": f"{(start + SLOT) // 60:02d}:{(start + SLOT) % 60:02d}",
                "title": "Door test",
            },
            headers={"Authorization": f"Bearer {token}"},
        )
    assert made.status_code == 201, made.text
    return True


@pytest.mark.parametrize("language", ["en", "ja"])
def test_the_door_page_and_its_qr_code(
    open_visit: VisitFactory,  # noqa: F811 - the fixture imported above
    base_url: str,  # noqa: F811
    language: str,
) -> None:
    size = PHONE if language == "ja" else {}
    admin = open_visit(language, name=f"door-admin-{language}", **size)
    admin.log_in(ADMIN.user_id, ADMIN.password)
    page = admin.page
    room_id = open_room(admin)
    admin.goto(f"/admin/rooms/{room_id}/policy")
    page.locator("#checkin_required").check()
    page.get_by_role("button", name=admin.t("Save"), exact=True).click()
    page.wait_for_url(re.compile(r".*done=policy_saved"))
    booked = _book_next_slot(base_url, room_id)

    admin.goto(f"/admin/rooms/{room_id}")
    page.get_by_text(admin.t("Door page and QR code (check-in)")).click()
    qr = page.locator(f'img[src="/admin/rooms/{room_id}/door-qr.svg"]')
    expect(qr).to_be_visible()
    assert page.evaluate("(img) => img.naturalWidth", qr.element_handle()) > 0
    admin.assert_accessible()

    alice = open_visit(language, name=f"door-alice-{language}", **size)
    door = alice.goto(f"/rooms/{room_id}/door")
    door.wait_for_url(re.compile(r".*/login\?next=.*door"))
    door.get_by_label(alice.t("User ID")).fill(ALICE.user_id)
    door.get_by_label(alice.t("Password"), exact=True).fill(ALICE.password)
    door.get_by_role("button", name=alice.t("Log in"), exact=True).click()
    door.wait_for_url(re.compile(rf".*/rooms/{room_id}/door$"))
    if booked:
        expect(door.get_by_role("heading", name=alice.t("Next"), exact=True)).to_be_visible()
        expect(door.get_by_text("Door test")).to_be_visible()
    else:
        expect(
            door.get_by_text(alice.t("The room is free for the rest of the day."))
        ).to_be_visible()
    alice.assert_accessible()
