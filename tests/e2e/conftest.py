"""Browser tests: a real `mrs serve` on a throwaway PostgreSQL database, driven by Debian's
Chromium through Playwright.

The server's address comes from ONE fixture (`base_url`); when the security branch brings
TLS, serving HTTPS is a change to `SCHEME` and the serve command here.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Playwright, sync_playwright

from tests import support
from tests.e2e.browsing import Visit

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCHEME = "https"
READY_TIMEOUT_SECONDS = 60
SECRET_KEY = "e2e-secret-key-0123456789-0123456789-0123456789"


@dataclass(frozen=True)
class Person:
    user_id: str
    password: str
    first_name: str
    last_name: str
    role: str = "USER"

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


ADMIN = Person("e2eadmin", "orchid-lantern-e2e-7", "Aiko", "Admin", "ADMIN")
ALICE = Person("alice", "maple-harbor-e2e-31", "Alice", "Sato")
BOB = Person("bob", "cedar-window-e2e-58", "Bob", "Suzuki")


def _cli_env(database_url: str, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MRS_")}
    env.update(MRS_DATABASE_URL=database_url, MRS_DATA_DIR=str(data_dir))
    return env


def _create_user(env: dict[str, str], person: Person) -> None:
    """Through the real CLI, which also migrates the new database."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mrs",
            "user",
            "create",
            person.user_id,
            "--email",
            f"{person.user_id}@example.com",
            "--first-name",
            person.first_name,
            "--last-name",
            person.last_name,
            "--role",
            person.role,
        ],
        env={**env, "MRS_PASSWORD": person.password},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"mrs user create {person.user_id}: {done.stderr}"


@pytest.fixture(scope="session")
def base_url(tmp_path_factory: pytest.TempPathFactory, postgres_server: str) -> Iterator[str]:
    """The base URL of a running `mrs serve` with an admin and two users.

    The one place that knows scheme and address: HTTPS after the security merge means
    changing SCHEME and passing the TLS settings to `running_server` here.
    """
    data_dir = tmp_path_factory.mktemp("e2e-data")
    with support.throwaway_database("mrs_e2e") as database_url:
        env = _cli_env(database_url, data_dir)
        for person in (ADMIN, ALICE, BOB):
            _create_user(env, person)
        with support.running_server(
            database_url=database_url,
            data_dir=data_dir,
            env={"MRS_SECRET_KEY": SECRET_KEY, "MRS_LOG_LEVEL": "warning"},
            # HTTPS with a self-signed pair made in the data directory; no redirect listener
            # (its fixed default port could clash with other test servers).
            args=["--https", "--redirect-port", "0"] if SCHEME == "https" else [],
            scheme=SCHEME,
            startup_timeout=READY_TIMEOUT_SECONDS,
        ) as server:
            _wait_until_serving(server.base_url)
            yield server.base_url


def _wait_until_serving(url: str) -> None:
    """The port is open; wait (bounded) until pages answer."""
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while True:
        try:
            if httpx.get(f"{url}/login", timeout=2, verify=False).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"mrs serve did not answer at {url}/login")
        time.sleep(0.3)


# Module scope, not session: the sync driver keeps an event loop running in this thread
# while it lives, which would break every asyncio test collected after the browser tests.
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium")
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


@pytest.fixture
def open_visit(browser: Browser, base_url: str) -> Iterator[VisitFactory]:
    """Open browser sessions (one per person); each checks its pages for console errors."""
    contexts: list[BrowserContext] = []
    visits: list[Visit] = []

    def factory(
        language: str = "en",
        *,
        width: int = 1280,
        height: int = 900,
        name: str = "visit",
        javascript: bool = True,
    ) -> Visit:
        context = browser.new_context(
            java_script_enabled=javascript,
            base_url=base_url,
            locale={"en": "en-US", "ja": "ja-JP"}[language],
            viewport={"width": width, "height": height},
            ignore_https_errors=SCHEME == "https",  # our own self-signed certificate
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        visit = Visit(context, base_url=base_url, language=language, name=name)
        visits.append(visit)
        return visit

    yield factory
    try:
        for visit in visits:
            visit.assert_clean()
    finally:
        for context in contexts:
            context.close()


class VisitFactory:
    """Type of the `open_visit` fixture."""

    def __call__(
        self,
        language: str = "en",
        *,
        width: int = 1280,
        height: int = 900,
        name: str = "visit",
        javascript: bool = True,
    ) -> Visit: ...
