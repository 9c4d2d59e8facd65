"""Regenerate the screenshots in docs/images from the demo data.

    .venv/bin/python tools/screenshots.py [--out docs/images]

Starts `mrs serve --demo` on a free port with a fresh data directory (embedded SQLite),
signs in as the demo users in Chromium (Debian's, /usr/bin/chromium) and saves every page
the user guides show, in Japanese and English, plus the phone-width ones. The pictures show
the demo data as of the day this runs.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

from mrs.i18n import translate

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
LOCALES = {"en": "en-US", "ja": "ja-JP"}
PASSWORDS = {"admin": "orange-meeting-42", "alice": "blue-meeting-42"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def demo_server() -> Iterator[str]:
    """`mrs serve --demo` on a free port and a throwaway data directory; its base URL."""
    with tempfile.TemporaryDirectory(prefix="mrs-shots-") as data_dir:
        port = _free_port()
        env = {
            **os.environ,
            "MRS_DATA_DIR": data_dir,
            "MRS_BACKUP_ENABLED": "false",
            "MRS_SECRET_KEY": "screenshots-secret-key-0123456789-0123456789",
        }
        env.pop("MRS_DATABASE_URL", None)
        command = [sys.executable, "-m", "mrs", "serve", "--demo", "--port", str(port)]
        server = subprocess.Popen(  # noqa: S603 - our own command line, no outside input
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        try:
            deadline = time.monotonic() + 120
            while True:
                if server.poll() is not None:
                    raise SystemExit(
                        f"mrs serve exited:\n{server.stdout.read() if server.stdout else ''}"
                    )
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                        break
                except OSError:
                    if time.monotonic() > deadline:
                        raise SystemExit("mrs serve did not start within 120 s") from None
                    time.sleep(0.2)
            yield f"http://127.0.0.1:{port}"
        finally:
            server.terminate()
            server.wait(timeout=30)


def _next_weekday(day: date) -> date:
    day += timedelta(days=1)
    while day.isoweekday() > 5:
        day += timedelta(days=1)
    return day


class Shooter:
    """One language's screenshots: browser sessions in that locale, files named after it."""

    def __init__(self, browser: Browser, base_url: str, language: str, out: Path) -> None:
        self.browser, self.base_url, self.language, self.out = browser, base_url, language, out
        self.written: list[Path] = []

    def session(self, width: int = 1280, height: int = 860) -> Page:
        context = self.browser.new_context(
            base_url=self.base_url,
            locale=LOCALES[self.language],
            viewport={"width": width, "height": height},
        )
        return context.new_page()

    def log_in(self, page: Page, user_id: str) -> None:
        def t(msgid: str) -> str:
            return translate(self.language, msgid)

        page.goto("/login")
        page.get_by_label(t("User ID")).fill(user_id)
        page.get_by_label(t("Password"), exact=True).fill(PASSWORDS[user_id])
        page.get_by_role("button", name=t("Log in"), exact=True).click()
        page.wait_for_url(re.compile(r".*/rooms.*"))

    def save(self, page: Page, path: str, name: str, *, full_page: bool = True) -> None:
        page.goto(path)
        target = self.out / f"{self.language}-{name}.png"
        page.screenshot(path=str(target), full_page=full_page)
        self.written.append(target)

    def shoot_all(self, day: str) -> None:
        anonymous = self.session()
        self.save(anonymous, "/login", "login")
        self.save(anonymous, "/register", "register")

        alice = self.session()
        self.log_in(alice, "alice")
        for name, path in (
            ("rooms", f"/rooms?date={day}"),
            ("timeline", f"/timeline?date={day}"),
            ("room-day", f"/rooms/2?date={day}"),
            ("room-week", f"/rooms/2/week?date={day}"),
            ("my-week", f"/my/week?date={day}"),
            ("my-reservations", "/reservations"),
            (
                "search",
                f"/search?date={day}&start_time=10:00&end_time=11:00&capacity=6"
                "&equipment=projector",
            ),
            ("my-sessions", "/account/sessions"),
        ):
            self.save(alice, path, name)

        admin = self.session()
        self.log_in(admin, "admin")
        for name, path in (
            ("admin-room", "/admin/rooms/2"),
            ("admin-users", "/admin/users"),
            ("admin-registrations", "/admin/registrations"),
            ("admin-monitoring", "/admin/monitoring"),
        ):
            self.save(admin, path, name)

        phone = self.session(width=390, height=844)
        self.log_in(phone, "alice")
        self.save(phone, f"/rooms/2?date={day}", "phone-room-day", full_page=False)
        self.save(phone, f"/timeline?date={day}", "phone-timeline", full_page=False)


def shoot(base_url: str, out: Path) -> list[Path]:
    """Every screenshot, in both languages; returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    day = _next_weekday(date.today()).isoformat()
    written: list[Path] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for language in LOCALES:
                shooter = Shooter(browser, base_url, language, out)
                shooter.shoot_all(day)
                written.extend(shooter.written)
        finally:
            browser.close()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    args = parser.parse_args()
    with demo_server() as base_url:
        for path in shoot(base_url, args.out):
            print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)


if __name__ == "__main__":
    main()
