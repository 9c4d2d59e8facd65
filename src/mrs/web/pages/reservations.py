"""My reservations, upcoming and past, and cancelling."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from starlette.responses import Response

from mrs.accounts.sessions import AuthenticatedUser
from mrs.db.engine import Database
from mrs.errors import DomainError
from mrs.http.dependencies import DatabaseDep, LocaleDep, NowDep, SettingsDep
from mrs.http.types import ReservationIdPath
from mrs.i18n import translate
from mrs.reservations import rules
from mrs.reservations import service as reservations_service
from mrs.reservations.errors import AlreadyCancelled, CancelNotAllowed
from mrs.settings import Settings
from mrs.wallclock import wall_instant
from mrs.web.dependencies import PageUser
from mrs.web.forms import FormErrors, read_form, text_values
from mrs.web.pages.common import (
    done_message,
    redirect,
    safe_next,
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
    # A cancelled reservation is no longer something to come: it moves to the history.
    upcoming = [
        v
        for v in views
        if v.status != "CANCELLED" and wall_instant(v.date, v.end_time, settings.tz) > now
    ]
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


# The longest reason an administrator may give when cancelling someone else's booking.
MAX_CANCEL_REASON = 500


def _cancel_next(target: str | None) -> str:
    return safe_next(target, "/reservations")


async def _cancel_page(
    request: Request,
    *,
    db: Database,
    user: AuthenticatedUser,
    reservation_id: int,
    next_url: str,
    reason: str = "",
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> Response:
    """Ask before cancelling (a page, not a script dialog: the CSP forbids inline script)."""
    reservation = await reservations_service.get_reservation(db, reservation_id=reservation_id)
    if reservation.user_id != user.user_id and not user.is_admin:
        raise CancelNotAllowed()
    if reservation.status == "CANCELLED":
        raise AlreadyCancelled()
    return render(
        request,
        "cancel_confirm.html",
        {
            "r": reservation,
            "next_url": next_url,
            "for_someone_else": reservation.user_id != user.user_id,
            "reason": reason,
            "errors": errors or FormErrors(),
            "max_reason": MAX_CANCEL_REASON,
        },
        status_code=status_code,
    )


@router.get("/reservations/{reservation_id}/cancel")
async def confirm_cancel(
    request: Request, reservation_id: ReservationIdPath, user: PageUser, db: DatabaseDep
) -> Response:
    return await _cancel_page(
        request,
        db=db,
        user=user,
        reservation_id=reservation_id,
        next_url=_cancel_next(request.query_params.get("next")),
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
    form = await read_form(request)
    values = text_values(form, ("reason", "next"))
    next_url = _cancel_next(values["next"])
    if len(values["reason"]) > MAX_CANCEL_REASON:
        errors = FormErrors()
        errors.add(
            "reason",
            translate(locale, "Keep the reason under {max} characters.", max=MAX_CANCEL_REASON),
        )
        return await _cancel_page(
            request,
            db=db,
            user=user,
            reservation_id=reservation_id,
            next_url=next_url,
            reason=values["reason"],
            errors=errors,
            status_code=422,
        )
    try:
        await reservations_service.cancel(
            db,
            settings=settings,
            actor=rules.Actor(user_id=user.user_id, is_admin=user.is_admin),
            reservation_id=reservation_id,
            now=now,
            reason=values["reason"] or None,
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
    separator = "&" if "?" in next_url else "?"
    return redirect(f"{next_url}{separator}done=cancelled")
