"""A repeating meeting's own pages: the series (its rule in words and every date with
its state), changing it and cancelling it, for all dates or those from a date on; and
what the forms of one of its dates share with them (the scope, the change, the cancel).
Booking a series from a room's day is `series_booking.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from fastapi import APIRouter
from starlette.datastructures import FormData
from starlette.responses import Response

from mrs.accounts.sessions import AuthenticatedUser
from mrs.errors import DomainError
from mrs.http.types import parse_iso_date
from mrs.i18n import translate
from mrs.reservations import delegation, rules
from mrs.reservations import series as series_service
from mrs.reservations.errors import CancelNotAllowed, EditNotAllowed
from mrs.reservations.schemas import (
    DESCRIPTION_MAX_LENGTH,
    REASON_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    ReservationUpdate,
)
from mrs.reservations.series import (
    Scope,
    SeriesChange,
    SeriesView,
)
from mrs.reservations.series_api import SeriesIdPath
from mrs.rooms import service as rooms_service
from mrs.wallclock import MINUTES_PER_DAY, format_minute, wall_instant
from mrs.web.dependencies import Page, PageContext, PageUser
from mrs.web.forms import FormState, submit, text_values
from mrs.web.i18n import N_
from mrs.web.pages import series_booking
from mrs.web.pages.common import done_message, redirect, site_now
from mrs.web.pages.meeting_form import (
    attendee_messages_on_the_field,
    meeting_data,
    meeting_values,
)
from mrs.web.rendering import render
from mrs.web.slots import offered_times

router = APIRouter()


def _actor(user: AuthenticatedUser) -> rules.Actor:
    return rules.Actor(user_id=user.user_id, is_admin=user.is_admin)


# --- the series page ---


OCCURRENCE_STATES = {
    "cancelled": N_("Cancelled"),
    "moved": N_("Changed on this date only"),
    "past": N_("Past"),
    "active": N_("Reserved"),
}


@dataclass(frozen=True)
class OccurrenceRow:
    """A date of the series as its page lists it."""

    reservation_id: int
    date: date
    start_time: int
    end_time: int
    room_name: str | None  # only when the date was moved to another room
    state: str
    state_text: str


def occurrence_rows(
    page: PageContext, series: SeriesView, room_names: dict[int, str]
) -> list[OccurrenceRow]:
    """The dates with their state: cancelled, changed on its own, past, or reserved."""
    rows: list[OccurrenceRow] = []
    for each in series.occurrences:
        state: str = each.state
        if state != "cancelled" and (
            wall_instant(each.date, each.end_time, page.settings.tz) <= page.now
        ):
            state = "past"
        rows.append(
            OccurrenceRow(
                reservation_id=each.reservation_id,
                date=each.date,
                start_time=each.start_time,
                end_time=each.end_time,
                room_name=None
                if each.room_id == series.room_id
                else room_names.get(each.room_id, str(each.room_id)),
                state=state,
                state_text=translate(page.locale, OCCURRENCE_STATES[state]),
            )
        )
    return rows


async def _may_change(page: PageContext, user: AuthenticatedUser, series: SeriesView) -> bool:
    """Whether the change and cancel buttons are offered (the service decides again)."""
    return series.status != "CANCELLED" and await delegation.may_act_for(
        page.db, _actor(user), series.user_id
    )


async def _series(page: PageContext, user: AuthenticatedUser, series_id: int) -> SeriesView:
    return await series_service.get_series(
        page.db, series_id=series_id, viewer=_actor(user), locale=page.locale
    )


@router.get("/series/{series_id}")
async def series_page(series_id: SeriesIdPath, page: Page, user: PageUser) -> Response:
    """A series: its rule in words, who reserved it, and every date with its state."""
    series = await _series(page, user, series_id)
    rooms = {series.room_id}
    other_rooms = {each.room_id for each in series.occurrences} - rooms
    names = (
        {room.room_id: room.room_name for room in await rooms_service.list_rooms(page.db)}
        if other_rooms
        else {}
    )
    return render(
        page.request,
        "series.html",
        {
            "s": series,
            "occurrences": occurrence_rows(page, series, names),
            "may_change": await _may_change(page, user, series),
            "done": done_message(page.request, page.locale),
        },
    )


# --- changing the series ---


def parse_scope(
    values: dict[str, str], state: FormState, *, scopes: tuple[str, ...]
) -> tuple[str, date | None] | None:
    """The dates a change applies to (one of `scopes`: "this", "following", "all"), and
    the first of them for "following"."""
    scope = values.get("scope", "") or scopes[0]
    if scope not in scopes:
        state.add_error("scope", N_("Choose which dates the change applies to."))
        return None
    if scope != "following":
        return scope, None
    try:
        return scope, parse_iso_date(values.get("from_date", ""))
    except ValueError as exc:
        state.add_error("from_date", str(exc))
        return None


_SERIES_EDIT_FIELDS = ("scope", "from_date", "start_time", "end_time")


def parse_series_edit(form: FormData, state: FormState) -> SeriesChange | None:
    """The series edit form: which dates, their times and the meeting's fields."""
    state.values = {**text_values(form, _SERIES_EDIT_FIELDS), **meeting_values(form)}
    values = state.values
    body = state.validate(
        ReservationUpdate,
        {
            "start_time": values["start_time"],
            "end_time": values["end_time"],
            **meeting_data(values),
        },
    )
    attendee_messages_on_the_field(state)
    scope = parse_scope(values, state, scopes=("all", "following"))
    if body is None or scope is None:
        return None
    return series_change(body, scope)


def series_change(body: ReservationUpdate, scope: tuple[str, date | None]) -> SeriesChange:
    """A series change from the meeting fields of a form (the edit form of the series,
    or of one of its dates with "this and following" or "all")."""
    return SeriesChange(
        scope=Scope(scope[0]),
        from_date=scope[1],
        title=body.title,
        description=body.description,
        visibility=body.visibility,
        attendees=body.attendees,
        start_minute=body.start_time,
        end_minute=body.end_time,
        room_id=body.room_id,
    )


async def change_series(
    page: PageContext, *, user: AuthenticatedUser, series_id: int, change: SeriesChange
) -> None:
    await series_service.change(
        page.db,
        settings=page.settings,
        actor=_actor(user),
        series_id=series_id,
        change=change,
        now=page.now,
        locale=page.locale,
    )


def _series_values(series: SeriesView, today: date) -> dict[str, str]:
    """The edit form filled with the series as it is."""
    return {
        "scope": "all",
        "from_date": max(today, series.start_date).isoformat(),
        "start_time": format_minute(series.start_time),
        "end_time": format_minute(series.end_time),
        "title": series.title if series.title_given else "",
        "description": series.description,
        "visibility": series.visibility,
        "attendees": ", ".join(attendee.user_id for attendee in series.attendees),
    }


async def _edit_page(
    page: PageContext, state: FormState, *, user: AuthenticatedUser, series_id: int
) -> Response:
    series = await _series(page, user, series_id)
    if not await _may_change(page, user, series):
        raise EditNotAllowed()
    starts, ends = offered_times(
        slot_minutes=page.settings.slot_minutes,
        first_minute=0,
        last_minute=MINUTES_PER_DAY,
        gone_until=0,
    )
    today = site_now(page.now, page.settings).date()
    return render(
        page.request,
        "series_edit.html",
        {
            "s": series,
            "values": state.values or _series_values(series, today),
            "errors": state.errors,
            "start_choices": starts,
            "end_choices": ends,
            "title_max": TITLE_MAX_LENGTH,
            "description_max": DESCRIPTION_MAX_LENGTH,
        },
        status_code=state.status_code,
    )


@router.get("/series/{series_id}/edit")
async def series_edit_form(series_id: SeriesIdPath, page: Page, user: PageUser) -> Response:
    return await _edit_page(page, FormState(locale=page.locale), user=user, series_id=series_id)


@router.post("/series/{series_id}/edit")
async def series_edit(series_id: SeriesIdPath, page: Page, user: PageUser) -> Response:
    """Change all dates of the series, or those from a date on; dates changed on their
    own and past ones stay as they are (the service's rule)."""

    async def change(parsed: SeriesChange) -> Response:
        await change_series(page, user=user, series_id=series_id, change=parsed)
        return redirect(f"/series/{series_id}?done=series_changed")

    async def explain(exc: DomainError) -> str | None:
        return await series_booking.series_conflict_message(page, _actor(user), exc)

    async def again(state: FormState) -> Response:
        return await _edit_page(page, state, user=user, series_id=series_id)

    return await submit(
        page.request,
        locale=page.locale,
        parse=parse_series_edit,
        action=change,
        render_again=again,
        explain=explain,
    )


# --- cancelling the series ---


async def cancel_series(
    page: PageContext,
    *,
    user: AuthenticatedUser,
    series_id: int,
    from_date: date | None,
    reason: str | None,
) -> int:
    """Cancel the dates from `from_date` on (None: every date still to come); an
    administrator's `reason` is mailed to the owner."""
    return await series_service.cancel(
        page.db,
        settings=page.settings,
        actor=_actor(user),
        series_id=series_id,
        now=page.now,
        from_date=from_date,
        reason=reason,
    )


async def _cancel_page(
    page: PageContext, state: FormState, *, user: AuthenticatedUser, series_id: int
) -> Response:
    series = await _series(page, user, series_id)
    if not await _may_change(page, user, series):
        raise CancelNotAllowed()
    today = site_now(page.now, page.settings).date()
    return render(
        page.request,
        "series_cancel.html",
        {
            "s": series,
            "values": state.values
            or {"from_date": max(today, series.start_date).isoformat(), "reason": ""},
            "errors": state.errors,
            "for_someone_else": series.user_id != user.user_id,
            "max_reason": REASON_MAX_LENGTH,
        },
        status_code=state.status_code,
    )


@router.get("/series/{series_id}/cancel")
async def series_cancel_form(series_id: SeriesIdPath, page: Page, user: PageUser) -> Response:
    return await _cancel_page(page, FormState(locale=page.locale), user=user, series_id=series_id)


def _parse_cancel(form: FormData, state: FormState) -> tuple[date, str | None] | None:
    """The first date to cancel, and the administrator's reason (None when none)."""
    state.values = text_values(form, ("from_date", "reason"))
    reason = state.values["reason"]
    if len(reason) > REASON_MAX_LENGTH:
        state.add_error(
            "reason", N_("Keep the reason under {max} characters."), max=REASON_MAX_LENGTH
        )
    try:
        from_date = parse_iso_date(state.values["from_date"])
    except ValueError as exc:
        state.add_error("from_date", str(exc))
        return None
    return from_date, reason or None


@router.post("/series/{series_id}/cancel")
async def series_cancel(series_id: SeriesIdPath, page: Page, user: PageUser) -> Response:
    """Cancel every date of the series from a date on (past dates stay)."""

    async def cancel(parsed: tuple[date, str | None]) -> Response:
        from_date, reason = parsed
        await cancel_series(
            page, user=user, series_id=series_id, from_date=from_date, reason=reason
        )
        return redirect(f"/series/{series_id}?done=series_cancelled")

    async def again(state: FormState) -> Response:
        return await _cancel_page(page, state, user=user, series_id=series_id)

    return await submit(
        page.request,
        locale=page.locale,
        parse=_parse_cancel,
        action=cancel,
        render_again=again,
    )
