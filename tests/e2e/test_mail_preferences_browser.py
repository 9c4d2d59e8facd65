"""The Mail and reminders page in a real browser: axe-core clean in English and Japanese,
changed and saved with the keyboard alone, and at phone width without JavaScript."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browsing import Visit
from tests.e2e.conftest import BOB, VisitFactory

axe_playwright = pytest.importorskip("axe_playwright_python.sync_playwright")


def _axe_clean(visit: Visit) -> None:
    results = axe_playwright.Axe().run(visit.page)
    assert results.violations_count == 0, results.generate_report()


def _reset(visit: Visit) -> None:
    """Back to the defaults, so other stories see Bob as every user starts."""
    page = visit.goto("/account/mail")
    page.get_by_label(visit.t("Mail about my own bookings")).check()
    page.get_by_label(visit.t("Mail when I am invited")).check()
    page.get_by_label(visit.t("No reminder")).check()
    page.get_by_role("button", name=visit.t("Save")).click()
    page.wait_for_url(re.compile(r".*/account/mail\?done=mail_saved"))


def _saved(page: Page) -> None:
    page.wait_for_url(re.compile(r".*/account/mail\?done=mail_saved"))


@pytest.mark.parametrize("language", ["en", "ja"])
def test_preferences_change_with_the_keyboard_alone(
    open_visit: VisitFactory, language: str
) -> None:
    visit = open_visit(language, name="mail-preferences")
    visit.log_in(BOB.user_id, BOB.password)
    page = visit.goto("/rooms")
    page.get_by_role("link", name=visit.t("Mail and reminders")).click()
    page.wait_for_url(re.compile(r".*/account/mail$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(visit.t("Mail and reminders"))
    _axe_clean(visit)
    try:
        own = page.get_by_label(visit.t("Mail about my own bookings"))
        own.focus()
        page.keyboard.press("Space")
        expect(own).not_to_be_checked()
        page.keyboard.press("Tab")
        expect(page.get_by_label(visit.t("Mail when I am invited"))).to_be_focused()
        page.keyboard.press("Tab")  # into the reminder group, at its chosen button
        expect(page.get_by_label(visit.t("No reminder"))).to_be_focused()
        page.keyboard.press("ArrowDown")
        page.keyboard.press("ArrowDown")
        fifteen = page.get_by_label(visit.t("{minutes} minutes before", minutes=15))
        expect(fifteen).to_be_checked()
        page.keyboard.press("Tab")
        expect(page.get_by_role("button", name=visit.t("Save"))).to_be_focused()
        page.keyboard.press("Enter")
        _saved(page)
        expect(page.get_by_role("status")).to_have_text(
            visit.t("Your mail preferences were saved.")
        )
        expect(page.get_by_label(visit.t("Mail about my own bookings"))).not_to_be_checked()
        expect(page.get_by_label(visit.t("{minutes} minutes before", minutes=15))).to_be_checked()
        _axe_clean(visit)
        visit.shot("mail-preferences-saved")
    finally:
        _reset(visit)


def test_preferences_save_at_phone_width_without_javascript(open_visit: VisitFactory) -> None:
    visit = open_visit("en", width=375, height=740, name="mail-phone-nojs", javascript=False)
    visit.log_in(BOB.user_id, BOB.password)
    page = visit.goto("/account/mail")
    try:
        page.get_by_label(visit.t("{minutes} minutes before", minutes=60)).check()
        # Nothing wider than the screen: no sideways scrolling on a phone.
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 375
        page.get_by_role("button", name=visit.t("Save")).click()
        _saved(page)
        expect(page.get_by_label(visit.t("{minutes} minutes before", minutes=60))).to_be_checked()
        visit.shot("mail-preferences-phone")
    finally:
        _reset(visit)
