"""Self-registration in a real browser, in both languages: register (the password rules
checked as you type) → an administrator approves on the registrations page → the new user
logs in and reserves; and register → rejected → the login page says why."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.e2e.browsing import SITE_TZ, Visit, open_room
from tests.e2e.conftest import ADMIN, VisitFactory

pytestmark = pytest.mark.slow

PHONE = {"width": 390, "height": 844}
GOOD_PASSWORD = "velvet-compass-harbor-81"


def _applicant_id(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:6]}"


def _rule(visit: Visit, rule: str) -> object:
    return visit.page.locator(f"ul[data-password-rules] li[data-rule='{rule}']")


def _register(visit: Visit, user_id: str, *, shots: bool = False) -> None:
    """Fill the registration form from the login page, watching the rules as one types."""
    page = visit.goto("/login")
    page.get_by_role("link", name=visit.t("Register")).click()
    page.wait_for_url(re.compile(r".*/register$"))
    page.get_by_label(visit.t("User ID")).fill(user_id)
    page.get_by_label(visit.t("Last name")).fill("Yamada")
    page.get_by_label(visit.t("First name")).fill("Hanako")
    page.get_by_label(visit.t("Email address")).fill(f"{user_id}@example.com")
    password = page.get_by_label(visit.t("Password"), exact=True)
    again = page.get_by_label(visit.t("Password (again)"))

    password.fill("too-short")
    expect(_rule(visit, "length")).to_have_class(re.compile(r"\bunmet\b"))
    password.fill(f"my-{user_id}-password")
    expect(_rule(visit, "length")).to_have_class(re.compile(r"\bmet\b"))
    expect(_rule(visit, "no-user-id")).to_have_class(re.compile(r"\bunmet\b"))
    expect(_rule(visit, "no-user-id")).to_contain_text(visit.t("(not met yet)"))
    password.fill(GOOD_PASSWORD)
    again.fill(GOOD_PASSWORD[:-1])
    expect(_rule(visit, "match")).to_have_class(re.compile(r"\bunmet\b"))
    again.fill(GOOD_PASSWORD)
    for rule in ("length", "no-user-id", "no-email", "match"):
        expect(_rule(visit, rule)).to_have_class(re.compile(r"\bmet\b"))
    if shots:
        visit.shot("register")
    page.get_by_role("button", name=visit.t("Send registration")).click()
    page.wait_for_url(re.compile(r".*/register/received$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(visit.t("Registration received"))
    if shots:
        visit.shot("register-received")


def _pending_item(admin: Visit, user_id: str) -> object:
    page = admin.goto("/admin/registrations")
    item = page.get_by_role("listitem").filter(has_text=user_id)
    expect(item).to_contain_text(f"{user_id}@example.com")
    return item


@pytest.mark.parametrize("language", ["en", "ja"])
def test_an_approved_registration_leads_to_a_reservation(
    open_visit: VisitFactory, language: str
) -> None:
    applicant_id = _applicant_id("hana")
    applicant = open_visit(language, name="applicant")
    _register(applicant, applicant_id, shots=True)

    # Not yet: the right password gets the "waiting for approval" answer.
    page = applicant.goto("/login")
    page.get_by_label(applicant.t("User ID")).fill(applicant_id)
    page.get_by_label(applicant.t("Password"), exact=True).fill(GOOD_PASSWORD)
    page.get_by_role("button", name=applicant.t("Log in"), exact=True).click()
    expect(page.get_by_role("alert")).to_have_text(
        applicant.t("Your registration is waiting for an administrator's approval.")
    )

    admin = open_visit(language, name="approver")
    admin.log_in(ADMIN.user_id, ADMIN.password)
    room_id = open_room(admin)
    admin.page.get_by_role("link", name=admin.t("Registrations")).click()
    item = admin.page.get_by_role("listitem").filter(has_text=applicant_id)
    expect(item).to_contain_text(f"{applicant_id}@example.com")
    admin.shot("admin-registrations")
    item.get_by_role("button", name=f"{admin.t('Approve')} {applicant_id}").click()
    admin.page.wait_for_url(re.compile(r".*done=approved"))
    expect(admin.page.get_by_role("status")).to_have_text(
        admin.t(
            "The registration was approved. A mail to the user is queued and goes out when the mail server takes it."
        )
    )
    admin.page.get_by_role("link", name=admin.t("Users"), exact=True).click()
    row = admin.page.get_by_role("row").filter(has_text=applicant_id)
    expect(row).to_contain_text(admin.t("Active"))
    admin.shot("admin-users")

    applicant.log_in(applicant_id, GOOD_PASSWORD)
    tomorrow = (datetime.now(SITE_TZ) + timedelta(days=1)).date().isoformat()
    page = applicant.goto(f"/rooms/{room_id}?date={tomorrow}")
    page.get_by_label(applicant.t("Start"), exact=True).select_option("15:00")
    page.get_by_label(applicant.t("End"), exact=True).select_option("16:00")
    page.get_by_role("button", name=applicant.t("Reserve this time")).click()
    page.wait_for_url(re.compile(r".*done=reserved"))
    expect(page.get_by_role("status")).to_have_text(applicant.t("Your reservation is confirmed."))

    # Their own account pages: this device is marked; the password rules are there too.
    page.get_by_role("link", name=applicant.t("My sessions")).click()
    expect(page.get_by_text(applicant.t("This device"), exact=True)).to_be_visible()
    applicant.shot("my-sessions")
    page.get_by_role("link", name=applicant.t("Change password")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(applicant.t("Change password"))
    applicant.shot("change-password")

    for visit in (applicant, admin):
        visit.assert_clean()
        assert visit.server_csp_seen


@pytest.mark.parametrize("language", ["en", "ja"])
def test_a_rejected_registration_cannot_log_in(open_visit: VisitFactory, language: str) -> None:
    applicant_id = _applicant_id("taro")
    applicant = open_visit(language, name="rejected", **PHONE)
    _register(applicant, applicant_id)
    # Nothing is wider than a phone's screen on the registration pages.
    assert applicant.page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]

    admin = open_visit(language, name="rejecter")
    admin.log_in(ADMIN.user_id, ADMIN.password)
    item = _pending_item(admin, applicant_id)
    item.get_by_label(admin.t("Reason for rejecting (optional, sent to the person)")).fill(
        "Not an employee"
    )
    item.get_by_role("button", name=f"{admin.t('Reject')} {applicant_id}").click()
    admin.page.wait_for_url(re.compile(r".*done=rejected"))
    expect(admin.page.get_by_role("status")).to_have_text(
        admin.t(
            "The registration was rejected. A mail to the user is queued and goes out when the mail server takes it."
        )
    )
    expect(admin.page.get_by_role("listitem").filter(has_text=applicant_id)).to_have_count(0)

    page = applicant.goto("/login")
    page.get_by_label(applicant.t("User ID")).fill(applicant_id)
    page.get_by_label(applicant.t("Password"), exact=True).fill(GOOD_PASSWORD)
    page.get_by_role("button", name=applicant.t("Log in"), exact=True).click()
    expect(page.get_by_role("alert")).to_have_text(
        applicant.t("Your registration was not approved. Contact an administrator.")
    )
    assert applicant.page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    applicant.shot("phone-login-rejected")
    assert not any(c["name"] == "mrs_session" for c in applicant.context.cookies())

    for visit in (applicant, admin):
        visit.assert_clean()
