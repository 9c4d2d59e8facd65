"""Forgot password and the reset link in a real browser (Chromium on a real `mrs serve`):
axe-core clean in English and Japanese, and used with the keyboard alone.

The mailed link's secret never leaves the server but in the mail, so the test stores a
link of its own (the hash of a token it made) in the server's database, as the mail
would carry it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from mrs.accounts import password_reset
from mrs.accounts.models import PasswordResetToken
from mrs.clock import system_clock
from tests import support
from tests.e2e.conftest import (
    SECRET_KEY,
    Person,
    VisitFactory,
    _cli_env,
    _create_user,
    _wait_until_serving,
)

pytest.importorskip("axe_playwright_python.sync_playwright")

CAROL = Person("carol", "violet-anchor-e2e-64", "Carol", "Ito")
NEW_PASSWORD = {"en": "silver-canyon-reset-81", "ja": "golden-valley-reset-93"}


@pytest.fixture(scope="module")
def reset_site(
    tmp_path_factory: pytest.TempPathFactory, postgres_server: str
) -> Iterator[tuple[str, str]]:
    """A server of its own (base URL, database URL), with one user."""
    data_dir = tmp_path_factory.mktemp("reset-e2e")
    with support.throwaway_database("mrs_e2e_reset") as database_url:
        _create_user(_cli_env(database_url, data_dir), CAROL)
        with support.running_server(
            database_url=database_url,
            data_dir=data_dir,
            env={"MRS_SECRET_KEY": SECRET_KEY, "MRS_LOG_LEVEL": "warning"},
        ) as server:
            _wait_until_serving(server.base_url)
            yield server.base_url, database_url


@pytest.fixture(scope="module")
def base_url(reset_site: tuple[str, str]) -> str:
    return reset_site[0]


def _store_link(database_url: str, user_id: str) -> str:
    token = password_reset.new_token()
    engine = create_engine(database_url)
    try:
        with Session(engine) as session, session.begin():
            now = system_clock()
            session.add(
                PasswordResetToken(
                    token_hash=password_reset.hash_token(token),
                    user_id=user_id,
                    created_at=now,
                    expires_at=now + timedelta(minutes=30),
                )
            )
    finally:
        engine.dispose()
    return token


@pytest.mark.parametrize("language", ["en", "ja"])
def test_forgot_and_reset_with_the_keyboard(
    open_visit: VisitFactory, reset_site: tuple[str, str], language: str
) -> None:
    visit = open_visit(language, name="password-reset")
    page = visit.goto("/login")
    page.get_by_role("link", name=visit.t("Forgot your password?")).click()
    page.wait_for_url(re.compile(r".*/password/forgot$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(visit.t("Forgot your password?"))
    visit.assert_accessible()
    field = page.get_by_label(visit.t("Email address or user ID"))
    field.focus()
    page.keyboard.type("carol@example.com")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name=visit.t("Send the reset mail"))).to_be_focused()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/password/forgot/sent$"))
    expect(page.get_by_role("status")).to_have_text(
        visit.t(
            "If an active account matches, a mail with a link to reset its password is on its way."
        )
    )
    visit.assert_accessible()

    token = _store_link(reset_site[1], CAROL.user_id)
    page = visit.goto(f"/password/reset?token={token}")
    expect(page.get_by_role("heading", level=1)).to_have_text(visit.t("Choose a new password"))
    visit.assert_accessible()
    page.get_by_label(visit.t("New password"), exact=True).focus()
    page.keyboard.type(NEW_PASSWORD[language])
    page.keyboard.press("Tab")
    expect(page.get_by_label(visit.t("New password (again)"))).to_be_focused()
    page.keyboard.type(NEW_PASSWORD[language])
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name=visit.t("Change the password"))).to_be_focused()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/password/reset/done$"))
    visit.assert_accessible()
    visit.shot("password-reset-done")

    visit.log_in(CAROL.user_id, NEW_PASSWORD[language])
    visit.log_out()

    # The link again: used up, said clearly, with the way to a new one.
    page = visit.goto(f"/password/reset?token={token}")
    expect(page.get_by_role("alert")).to_have_text(
        visit.t("This password reset link has already been used or replaced by a newer one.")
    )
    visit.assert_accessible()
    expect(page.get_by_role("link", name=visit.t("Ask for a new link"))).to_be_visible()
    # The browser logs the page's deliberate 410 (Gone) as a console error: expected here.
    expected = [p for p in visit.problems if "status of 410" in p]
    assert len(expected) == 1, visit.problems
    visit.problems.remove(expected[0])
