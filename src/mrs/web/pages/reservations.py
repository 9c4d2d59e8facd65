"""My reservations, upcoming and past, and cancelling."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from starlette.responses import Response

from mrs.db.engine import Database
from mrs.errors import DomainError
from mrs.http.dependencies import DatabaseDep, LocaleDep, NowDep, SettingsDep
from mrs.http.types import ReservationIdPath
from mrs.i18n import translate
from mrs.reservations import rules
from mrs.reservations import service as reservations_service
from mrs.settings import Settings
from mrs.wallclock import wall_instant
from mrs.web.dependencies import PageUser
from mrs.web.forms import read_form
from mrs.web.pages.common import (
    done_message,
    redirect,
)
from mrs.web.rendering import render

router = APIRouter()


async def _my_reservations_page(
    request: Request,
    *,
    db: Database,
    settings: Settings,
    user_id: str,
    now: datetime,
    message: str | None,
    error: str | None,
    status_code: int = 200,
) -> Response:
    views = await reservations_service.reservations_of_user(
        db, user_id=user_id, now=now, settings=settings
    )
    upcoming = [v for v in views if wall_instant(v.date, v.end_time, settings.tz) > now]
    past = [v for v in views if v not in upcoming]
    return render(
        request,
        "my_reservations.html",
        {"upcoming": upcoming, "past": past, "done": message, "error": error},
        status_code=status_code,
    )


@router.get("/reservations")
async def my_reservations(
    request: Request,
    user: PageUser,
    db: DatabaseDep,
    settings: SettingsDep,
    now: NowDep,
    locale: LocaleDep,
) -> Response:
    return await _my_reservations_page(
        request,
        db=db,
        settings=settings,
        user_id=user.user_id,
        now=now,
        message=done_message(request, locale),
        error=None,
    )


@router.post("/reservations/{reservation_id}/cancel")
async def cancel_reservation(
    request: Request,
    reservation_id: ReservationIdPath,
    user: PageUser,
    db: DatabaseDep,
    settings: SettingsDep,
    now: NowDep,
    locale: LocaleDep,
) -> Response:
    await read_form(request)  # the CSRF token travels in the form
    try:
        await reservations_service.cancel(
            db,
            settings=settings,
            actor=rules.Actor(user_id=user.user_id, is_admin=user.is_admin),
            reservation_id=reservation_id,
            now=now,
        )
    except DomainError as exc:
        return await _my_reservations_page(
            request,
            db=db,
            settings=settings,
            user_id=user.user_id,
            now=now,
            message=None,
            error=translate(locale, exc.msgid, **exc.params),
            status_code=exc.status,
        )
    return redirect("/reservations?done=cancelled")
