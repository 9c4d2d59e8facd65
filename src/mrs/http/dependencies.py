"""Dependencies that give routes the app's shared objects, as `Annotated` aliases."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request

from mrs.clock import Clock
from mrs.db.engine import Database
from mrs.i18n import negotiate_locale
from mrs.settings import Settings

LOCALE_COOKIE = "mrs_lang"


# These dependencies are `async def` although they never await: FastAPI runs plain `def`
# dependencies in its thread pool, and a thread hop per dependency per request cost more
# CPU than the rest of a room's-day request (measured: docs/performance.md).


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def get_clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


async def get_now(request: Request) -> datetime:
    clock: Clock = request.app.state.clock
    return clock()


def request_locale(request: Request) -> str:
    """The language for messages: the user's saved choice, else Accept-Language."""
    return negotiate_locale(
        request.headers.get("accept-language"), request.cookies.get(LOCALE_COOKIE)
    )


async def _locale(request: Request) -> str:
    return request_locale(request)


SettingsDep = Annotated[Settings, Depends(get_settings)]
DatabaseDep = Annotated[Database, Depends(get_db)]
NowDep = Annotated[datetime, Depends(get_now)]
LocaleDep = Annotated[str, Depends(_locale)]
