"""The policy and quota pages in a real browser, in English and Japanese (the Japanese
one at phone width): the administrator opens a room's policy from its page, is refused
a longest booking of 0 minutes next to the field, saves a valid one, and sets a group's
quota. Every page is axe-core clean. (Uses the e2e server and browser fixtures.)"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.browsing import add_group, open_room
from tests.e2e.conftest import (  # noqa: F401 - the e2e fixtures, used by name
    ADMIN,
    VisitFactory,
    base_url,
    browser,
    open_visit,
    playwright,
)

pytestmark = pytest.mark.slow

pytest.importorskip("axe_playwright_python.sync_playwright")

PHONE = {"width": 390, "height": 844}


@pytest.mark.parametrize("language", ["en", "ja"])
def test_an_admin_sets_a_room_policy_and_a_group_quota(
    open_visit: VisitFactory,  # noqa: F811 - the fixture imported above
    language: str,
) -> None:
    size = PHONE if language == "ja" else {}
    admin = open_visit(language, name=f"policies-{language}", **size)
    admin.log_in(ADMIN.user_id, ADMIN.password)
    page = admin.page
    room_id = open_room(admin)
    group_id = add_group(admin)

    admin.goto(f"/admin/rooms/{room_id}")
    page.get_by_role("link", name=admin.t("Booking policy"), exact=True).click()
    page.wait_for_url(re.compile(rf".*/admin/rooms/{room_id}/policy$"))
    admin.assert_accessible()

    longest = page.get_by_label(admin.t("Longest booking (minutes)"))
    longest.fill("0")
    page.get_by_role("button", name=admin.t("Save"), exact=True).click()
    expect(longest).to_have_attribute("aria-invalid", "true")
    admin.assert_accessible()
    longest.fill("120")
    page.get_by_role("button", name=admin.t("Save"), exact=True).click()
    page.wait_for_url(re.compile(r".*done=policy_saved"))
    expect(page.get_by_label(admin.t("Longest booking (minutes)"))).to_have_value("120")
    admin.assert_accessible()

    admin.goto("/admin/quotas")
    expect(page.get_by_role("heading", level=1)).to_have_text(admin.t("Quotas"))
    admin.assert_accessible()
    form = page.locator(f'form[action="/admin/quotas/groups/{group_id}"]')
    form.get_by_label(admin.t("Reservations to come (empty: site default)")).fill("5")
    form.get_by_role("button").click()
    page.wait_for_url(re.compile(r".*done=quota_saved"))
    expect(
        page.locator(
            f'form[action="/admin/quotas/groups/{group_id}"] input[name="max_future_reservations"]'
        )
    ).to_have_value("5")
    admin.assert_accessible()
