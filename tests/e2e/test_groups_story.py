"""Groups in a real browser, in English and Japanese (the Japanese one at phone width):
the administrator opens the page from the navigation, adds a group and ticks Alice as a
member with the keyboard alone, renames it, and finally deletes it after confirming in a
browser without JavaScript. Every page is axe-core clean."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.e2e.browsing import Visit
from tests.e2e.conftest import ADMIN, ALICE, VisitFactory

pytestmark = pytest.mark.slow

axe_playwright = pytest.importorskip("axe_playwright_python.sync_playwright")

PHONE = {"width": 390, "height": 844}


def _checked(visit: Visit) -> None:
    """axe-core finds nothing, and nothing is wider than the window."""
    results = axe_playwright.Axe().run(visit.page)
    assert results.violations_count == 0, results.generate_report()
    width = visit.page.evaluate("() => window.innerWidth")
    assert visit.page.evaluate("() => document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("language", ["en", "ja"])
def test_an_admin_keeps_a_group_with_the_keyboard(open_visit: VisitFactory, language: str) -> None:
    size = PHONE if language == "ja" else {}
    admin = open_visit(language, name=f"groups-{language}", **size)
    admin.log_in(ADMIN.user_id, ADMIN.password)
    page = admin.page
    if language == "en":  # the navigation link (on a phone the menu differs)
        page.get_by_role("link", name=admin.t("Groups"), exact=True).click()
    else:
        admin.goto("/admin/groups")
    expect(page.get_by_role("heading", level=1)).to_have_text(admin.t("Groups"))
    _checked(admin)

    name = f"Dept {uuid.uuid4().hex[:6]}"
    page.get_by_label(admin.t("Name")).focus()
    page.keyboard.type(name)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/admin/groups/\d+/members\?done=group_added"))
    group_id = int(re.findall(r"/admin/groups/(\d+)", page.url)[0])
    expect(page.get_by_role("heading", level=1)).to_have_text(
        admin.t("Members of {name}", name=name)
    )
    _checked(admin)

    page.get_by_label(admin.t("Search by user ID, name or email address")).focus()
    page.keyboard.type(ALICE.user_id)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*q=alice"))
    box = page.locator(f'input[name="member"][value="{ALICE.user_id}"]')
    box.focus()
    page.keyboard.press("Space")
    expect(box).to_be_checked()
    page.get_by_role("button", name=admin.t("Save members")).focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*done=members_saved"))
    expect(page.locator(f'input[name="member"][value="{ALICE.user_id}"]')).to_be_checked()
    _checked(admin)

    admin.goto(f"/admin/groups/{group_id}")
    _checked(admin)
    field = page.get_by_role("textbox", name=admin.t("Name"), exact=True)
    field.fill("")
    field.press("Enter")  # an empty name is refused next to the field
    expect(field).to_have_attribute("aria-invalid", "true")
    _checked(admin)
    field.fill(f"{name} renamed")
    field.press("Enter")
    page.wait_for_url(re.compile(r".*/admin/groups\?done=group_saved"))
    row = page.get_by_role("row").filter(has_text=f"{name} renamed")
    expect(row.get_by_role("cell").nth(1)).to_have_text("1")

    plain = open_visit(language, name=f"groups-nojs-{language}", javascript=False)
    plain.log_in(ADMIN.user_id, ADMIN.password)
    plain.goto(f"/admin/groups/{group_id}/delete")
    expect(plain.page.get_by_role("heading", level=1)).to_have_text(
        admin.t("Delete {name}?", name=f"{name} renamed")
    )
    plain.page.get_by_role("button", name=admin.t("Delete it")).click()
    plain.page.wait_for_url(re.compile(r".*done=group_deleted"))
    expect(plain.page.get_by_text(f"{name} renamed")).to_have_count(0)
