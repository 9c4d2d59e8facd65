"""The app served in this process on a pinned clock, for browser stories that need time to
pass (a meeting starts, its grace period runs out) without waiting for it.

`mrs serve` (the other browser tests' server) runs on the real clock; this one runs the
same app (`create_app`) under uvicorn in a thread, on a throwaway PostgreSQL database,
with a `FixedClock` the test moves. Background jobs are off: a story runs a job itself,
when its time has come, through `ClockedSite.run` (its own connection pool and thread).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import uvicorn

from mrs.app import create_app
from mrs.clock import FixedClock
from mrs.db.engine import Database
from mrs.settings import Settings
from tests import support

T = TypeVar("T")


@dataclass
class ClockedSite:
    base_url: str
    clock: FixedClock
    settings: Settings

    def run(self, work: Callable[[Database], Awaitable[T]]) -> T:
        """Run `work` against the site's database, as a job or a setup step would."""

        async def with_database() -> T:
            db = Database(self.settings)
            try:
                return await work(db)
            finally:
                await db.dispose()

        # Its own thread: Playwright's sync API keeps an event loop running in this one.
        with ThreadPoolExecutor(max_workers=1) as executor:
            return executor.submit(asyncio.run, with_database()).result(timeout=120)


def serve_on_clock(
    database_url: str, data_dir: Path, now: datetime, **settings: Any
) -> Iterator[ClockedSite]:
    """Serve the app on `database_url` with the clock pinned at `now` until closed."""
    clock = FixedClock(now)
    site_settings = Settings(
        data_dir=data_dir,
        database_url=database_url,
        run_background_jobs=False,
        secret_key="clocked-story-secret-key-of-32-bytes!",
        **settings,
    )
    port = support.free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(site_settings, clock=clock),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="on",
        )
    )
    thread = threading.Thread(target=server.run, name="clocked-site", daemon=True)
    thread.start()
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{base_url}/login", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or not thread.is_alive():
            server.should_exit = True
            pytest.fail("the clocked site did not start serving")
        time.sleep(0.1)
    try:
        yield ClockedSite(base_url, clock, site_settings)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
