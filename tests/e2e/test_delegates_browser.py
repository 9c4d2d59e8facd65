"""Delegates in a real browser: the Delegates page axe-core clean in English and
Japanese, a delegate named and removed with the keyboard alone, and the delegate's
"Book for" select on a room's day (axe-core clean, reached by keyboard)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.e2e.browsing import SITE_TZ, Visit, open_room
from tests.e2e.conftest import ADMIN, ALICE, BOB, VisitFactory

axe_playwright = pytest.importorskip("axe_playwright_python.sync_playwright")


def _axe_clean(visit: Visit) -> None:
    results = axe_playwright.Axe().run(visit.page)
    assert results.violations_count == 0, results.generate_report()


def _remove_all(visit: Visit) -> None:
    """Back to no delegates, so other stories see Bob as every user starts."""
    page = visit.goto("/account/delegates")
    buttons = page.get_by_role("button", name=re.compile(visit.t("Remove as delegate")))
    while buttons.count():
        buttons.first.click()
        page.wait_for_url(re.compile(r".*/account/delegates\?done=delegate_removed"))


@pytest.mark.parametrize("language", ["en", "ja"])
def test_a_delegate_is_named_with_the_keyboard_and_offered_on_the_booking_form(
    open_visit: VisitFactory, language: str
) -> None:
    bob = open_visit(language, name="delegates")
    bob.log_in(BOB.user_id, BOB.password)
    page = bob.goto("/rooms")
    page.get_by_role("link", name=bob.t("Delegates")).click()
    page.wait_for_url(re.compile(r".*/account/delegates$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(bob.t("Delegates"))
    _axe_clean(bob)
    try:
        field = page.get_by_label(bob.t("Add a delegate"))
        field.focus()
        page.keyboard.type(ALICE.user_id)
        page.keyboard.press("Tab")
        expect(page.get_by_role("button", name=bob.t("Add"))).to_be_focused()
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r".*/account/delegates\?done=delegate_added"))
        expect(page.get_by_role("status")).to_have_text(
            bob.t("The delegate was added: they may now book for you.")
        )
        _axe_clean(bob)
        bob.shot("delegates-named")

        admin = open_visit(language, name="delegates-admin")
        admin.log_in(ADMIN.user_id, ADMIN.password)
        room_id = open_room(admin)
        tomorrow = (datetime.now(SITE_TZ) + timedelta(days=1)).date().isoformat()
        alice = open_visit(language, name="delegates-alice")
        alice.log_in(ALICE.user_id, ALICE.password)
        form = alice.goto(f"/rooms/{room_id}?date={tomorrow}")
        choice = form.get_by_label(alice.t("Book for"))
        expect(choice).to_be_visible()
        choice.focus()
        form.keyboard.press("ArrowDown")
        expect(choice).to_have_value(BOB.user_id)
        _axe_clean(alice)
        alice.shot("delegates-book-for")
    finally:
        _remove_all(bob)
