"""My reservations, upcoming and past, and cancelling."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from fastapi import APIRouter
from starlette.datastructures import FormData
from starlette.responses import Response

from mrs.accounts.sessions import AuthenticatedUser
from mrs.http.types import ReservationIdPath
from mrs.reservations import delegation, rules
from mrs.reservations import editing as reservations_editing
from mrs.reservations import reads as reservations_reads
from mrs.reservations.errors import AlreadyCancelled, CancelNotAllowed
from mrs.wallclock import wall_instant
from mrs.web.dependencies import Page, PageContext, PageUser
from mrs.web.forms import FormState, submit, text_values
from mrs.web.i18n import N_
from mrs.web.pages import series as series_pages
from mrs.web.pages.common import (
    done_message,
    redirect,
    safe_next,
)
from mrs.web.rendering import render

router = APIRouter()


async def _my_reservations_page(page: PageContext, state: FormState, *, user_id: str) -> Response:
    """Upcoming and past reservations (`state.errors.form`: a refused cancel)."""
    settings, now = page.settings, page.now
    views = await reservations_reads.reservations_of_user(
        page.db, user_id=user_id, now=now, settings=settings, locale=page.locale
    )
    # A cancelled (or released) reservation is no longer something to come: it moves to
    # the history.
    upcoming = [
        v
        for v in views
        if v.status not in ("CANCELLED", "RELEASED")
        and wall_instant(v.date, v.end_time, settings.tz) > now
    ]
    past = [v for v in views if v not in upcoming]
    return render(
        page.request,
        "my_reservations.html",
        {
            "upcoming": upcoming,
            "past": past,
            "bookers": await delegation.names_of(
                page.db, (v.booked_by for v in views), page.locale
            ),
            "done": None if state.errors else done_message(page.request, page.locale),
            "error": state.errors.form,
        },
        status_code=state.status_code,
    )


@router.get("/reservations")
async def my_reservations(page: Page, user: PageUser) -> Response:
    return await _my_reservations_page(page, FormState(locale=page.locale), user_id=user.user_id)


# The longest reason an administrator may give when cancelling someone else's booking.
MAX_CANCEL_REASON = 500


def _cancel_next(target: str | None) -> str:
    return safe_next(target, "/reservations")


async def _cancel_page(
    page: PageContext, state: FormState, *, user: AuthenticatedUser, reservation_id: int
) -> Response:
    """Ask before cancelling (a page, not a script dialog: the CSP forbids inline script)."""
    reservation = await reservations_reads.get_reservation(page.db, reservation_id=reservation_id)
    actor = rules.Actor(user_id=user.user_id, is_admin=user.is_admin)
    if not await delegation.may_act_for(page.db, actor, reservation.user_id):
        raise CancelNotAllowed()
    if reservation.status == "CANCELLED":
        raise AlreadyCancelled()
    return render(
        page.request,
        "cancel_confirm.html",
        {
            "r": reservation,
            "next_url": state.values["next"],
            "for_someone_else": reservation.user_id != user.user_id,
            "reason": state.values["reason"],
            "scope": state.values.get("scope", "this"),
            "errors": state.errors,
            "max_reason": MAX_CANCEL_REASON,
        },
        status_code=state.status_code,
    )


@router.get("/reservations/{reservation_id}/cancel")
async def confirm_cancel(reservation_id: ReservationIdPath, page: Page, user: PageUser) -> Response:
    state = FormState(
        locale=page.locale,
        values={"reason": "", "next": _cancel_next(page.request.query_params.get("next"))},
    )
    return await _cancel_page(page, state, user=user, reservation_id=reservation_id)


@dataclass(frozen=True)
class _Cancel:
    reason: str | None
    next_url: str
    # An occurrence of a series: "this" date, "following" from `scope[1]`, or "all".
    scope: tuple[str, date | None]


def _parse_cancel(form: FormData, state: FormState) -> _Cancel | None:
    """The reason for the owner (None when none was given), where to go afterwards, and
    for a date of a series which dates."""
    values = text_values(form, ("reason", "next", "scope", "from_date"))
    state.values = {**values, "next": _cancel_next(values["next"])}
    if len(values["reason"]) > MAX_CANCEL_REASON:
        state.add_error(
            "reason", N_("Keep the reason under {max} characters."), max=MAX_CANCEL_REASON
        )
        return None
    scope = series_pages.parse_scope(values, state, scopes=("this", "following", "all"))
    if scope is None:
        return None
    return _Cancel(values["reason"] or None, state.values["next"], scope)


@router.post("/reservations/{reservation_id}/cancel")
async def cancel_reservation(
    reservation_id: ReservationIdPath, page: Page, user: PageUser
) -> Response:
    """Cancel and go back; a reason too long is said on the confirm page, a refused
    cancel (not allowed, already cancelled, ended) on the list of reservations."""

    async def cancel(parsed: _Cancel) -> Response:
        reason, next_url = parsed.reason, parsed.next_url
        if parsed.scope[0] != "this":
            view = await reservations_reads.get_reservation(page.db, reservation_id=reservation_id)
            if view.series_id is not None:
                await series_pages.cancel_series(
                    page,
                    user=user,
                    series_id=view.series_id,
                    from_date=parsed.scope[1],
                    reason=reason,
                )
                return redirect(f"/series/{view.series_id}?done=series_cancelled")
        await reservations_editing.cancel(
            page.db,
            settings=page.settings,
            actor=rules.Actor(user_id=user.user_id, is_admin=user.is_admin),
            reservation_id=reservation_id,
            now=page.now,
            reason=reason,
        )
        separator = "&" if "?" in next_url else "?"
        return redirect(f"{next_url}{separator}done=cancelled")

    async def again(state: FormState) -> Response:
        if state.refusal is None:
            return await _cancel_page(page, state, user=user, reservation_id=reservation_id)
        return await _my_reservations_page(page, state, user_id=user.user_id)

    return await submit(
        page.request, locale=page.locale, parse=_parse_cancel, action=cancel, render_again=again
    )
