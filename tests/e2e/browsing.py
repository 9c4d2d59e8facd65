"""A person's browser session for the e2e tests: pages, screenshots, and the checks every
page must pass (no console error, no Content-Security-Policy violation)."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from playwright.sync_api import BrowserContext, ConsoleMessage, Page, Response

from mrs.i18n import translate

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "e2e"

_CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.mrsCspViolation(`${event.violatedDirective} blocked ${event.blockedURI || "inline"}`);
});
"""
# A page answered with its error status (401/403/404/409/422) is expected in some steps;
# Chromium logs that as "Failed to load resource" for the document. Anything else counts.
_EXPECTED_STATUS = re.compile(r"the server responded with a status of (401|403|404|409|422)")


class Visit:
    """One person's browser context and page, with its problems recorded as they happen."""

    def __init__(self, context: BrowserContext, *, base_url: str, language: str, name: str):
        self.context = context
        self.base_url = base_url
        self.language = language
        self.name = name
        self.problems: list[str] = []
        self.server_csp_seen = False
        context.expose_function("mrsCspViolation", self._csp_violation)
        context.add_init_script(script=_CSP_LISTENER)
        self.page: Page = context.new_page()
        self.page.on("response", self._check_csp)
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))

    # --- checks ---

    def _csp_violation(self, text: str) -> None:
        self.problems.append(f"CSP violation on {self.page.url}: {text}")

    def _console(self, message: ConsoleMessage) -> None:
        if message.type not in ("error", "warning"):
            return
        location = message.location.get("url", "")
        if _EXPECTED_STATUS.search(message.text) and "/static/" not in location:
            return
        self.problems.append(f"console {message.type} on {self.page.url}: {message.text}")

    def _check_csp(self, response: Response) -> None:
        # Every page of ours must come with the server's own Content-Security-Policy.
        if response.request.resource_type != "document" or not response.url.startswith(
            self.base_url
        ):
            return
        if "content-security-policy" in response.headers:
            self.server_csp_seen = True
        else:
            self.problems.append(f"no Content-Security-Policy on {response.url}")

    def assert_clean(self) -> None:
        assert self.problems == [], "\n".join(self.problems)

    def assert_accessible(self) -> None:
        """axe-core finds nothing on the page, and nothing is wider than the window."""
        from axe_playwright_python.sync_playwright import Axe

        results = Axe().run(self.page)
        assert results.violations_count == 0, results.generate_report()
        width = self.page.evaluate("() => window.innerWidth")
        assert self.page.evaluate("() => document.documentElement.scrollWidth") <= width

    def t(self, msgid: str, **params: Any) -> str:
        """The text the page shows for `msgid` in this visit's language."""
        return translate(self.language, msgid, **params)

    # --- actions ---

    def goto(self, path: str) -> Page:
        self.page.goto(path)
        return self.page

    def shot(self, name: str, *, full_page: bool = True) -> Path:
        """Save a screenshot as a test artifact (test-artifacts/e2e/<lang>-<name>.png)."""
        path = ARTIFACTS / f"{self.language}-{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(path), full_page=full_page)
        return path

    def log_in(self, user_id: str, password: str) -> None:
        page = self.goto("/login")
        page.get_by_label(self.t("User ID")).fill(user_id)
        page.get_by_label(self.t("Password"), exact=True).fill(password)
        page.get_by_role("button", name=self.t("Log in"), exact=True).click()
        page.wait_for_url(re.compile(r".*/rooms.*"))

    def log_out(self) -> None:
        self.page.get_by_role("button", name=self.t("Log out")).click()
        self.page.wait_for_url(re.compile(r".*/login.*"))


SITE_TZ = ZoneInfo("Asia/Tokyo")  # the server runs with the default site time zone


def open_room(admin: Visit, *, days: int = 7) -> int:
    """Create a room through the admin pages, bookable all day and opened by hand on every
    day of the next week (the stories book at any hour, on any day)."""
    page = admin.goto("/admin/rooms")
    page.get_by_label(admin.t("Name")).fill(f"Room {uuid.uuid4().hex[:6]}")
    for weekday in range(6, 8):  # the site's default rule opens Monday to Friday
        page.locator(f"#open-weekday-{weekday}").check()
    page.get_by_label(admin.t("Opens at")).select_option("00:00")
    page.get_by_label(admin.t("Closes at")).select_option("24:00")
    page.get_by_label(admin.t("Open automatically")).uncheck()
    page.get_by_role("button", name=admin.t("Create room")).click()
    page.wait_for_url(re.compile(r".*/admin/rooms/\d+\?done=room_created"))
    room_id = int(re.findall(r"/admin/rooms/(\d+)", page.url)[0])
    today = datetime.now(SITE_TZ).date()
    page.get_by_label(admin.t("To (inclusive)")).fill((today + timedelta(days=days)).isoformat())
    for weekday in ("Saturday", "Sunday"):
        page.get_by_label(admin.t(weekday)).check()
    page.get_by_role("button", name=admin.t("Open these dates")).click()
    page.wait_for_url(re.compile(r".*done=opened"))
    return room_id


def add_group(admin: Visit) -> int:
    """Create a group through the groups page; returns its id (from the members page it
    leads to)."""
    page = admin.goto("/admin/groups")
    page.get_by_label(admin.t("Name")).fill(f"Group {uuid.uuid4().hex[:6]}")
    page.get_by_role("button", name=admin.t("Add")).click()
    page.wait_for_url(re.compile(r".*/admin/groups/\d+/members\?done=group_added"))
    return int(re.findall(r"/admin/groups/(\d+)", page.url)[0])
