"""One reservation: its page (what the reader may see of the meeting) and the edit form
(move it, or change what it is), for its owner and administrators."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from fastapi import APIRouter
from starlette.datastructures import FormData
from starlette.responses import Response

from mrs.accounts.sessions import AuthenticatedUser
from mrs.errors import DomainError
from mrs.http.types import ReservationIdPath
from mrs.reservations import delegation, rules
from mrs.reservations import editing as reservations_editing
from mrs.reservations import reads as reservations_reads
from mrs.reservations.errors import ReservationConflict
from mrs.reservations.schemas import (
    DESCRIPTION_MAX_LENGTH,
    REASON_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    ReservationUpdate,
)
from mrs.rooms import service as rooms_service
from mrs.wallclock import MINUTES_PER_DAY, format_minute, wall_instant
from mrs.web.dependencies import Page, PageContext, PageUser
from mrs.web.forms import FormState, submit, text_values
from mrs.web.i18n import N_
from mrs.web.pages import checkin as checkin_pages
from mrs.web.pages import series as series_pages
from mrs.web.pages import series_booking
from mrs.web.pages.common import done_message, redirect
from mrs.web.pages.meeting_form import (
    attendee_messages_on_the_field,
    conflict_message,
    meeting_data,
    meeting_values,
)
from mrs.web.rendering import render
from mrs.web.slots import offered_times

router = APIRouter()


def _actor(user: AuthenticatedUser) -> rules.Actor:
    return rules.Actor(user_id=user.user_id, is_admin=user.is_admin)


async def _may_change(
    page: PageContext, user: AuthenticatedUser, view: reservations_reads.ReservationView
) -> bool:
    """Whether the edit and cancel buttons are offered (the service decides again)."""
    return (
        view.status not in ("CANCELLED", "RELEASED")
        and wall_instant(view.date, view.end_time, page.settings.tz) > page.now
        and await delegation.may_act_for(page.db, _actor(user), view.user_id)
    )


@router.get("/reservations/{reservation_id}")
async def reservation_page(
    reservation_id: ReservationIdPath, page: Page, user: PageUser
) -> Response:
    """A reservation as the reader may see it, with edit and cancel for those who may."""
    view = await reservations_reads.get_reservation(
        page.db, reservation_id=reservation_id, viewer=_actor(user), locale=page.locale
    )
    return render(
        page.request,
        "reservation.html",
        {
            "r": view,
            "may_change": await _may_change(page, user, view),
            "booker": (await delegation.names_of(page.db, [view.booked_by], page.locale)).get(
                view.booked_by or ""
            ),
            "done": done_message(page.request, page.locale),
            "checkin": await checkin_pages.offer(page, user, reservation_id),
        },
    )


def _form_values(view: reservations_reads.ReservationView) -> dict[str, str]:
    """The edit form filled with the reservation as it is."""
    return {
        "date": view.date.isoformat(),
        "start_time": format_minute(view.start_time),
        "end_time": format_minute(view.end_time),
        "room_id": str(view.room_id),
        "title": view.title if view.title_given else "",
        "description": view.description,
        "visibility": view.visibility,
        "attendees": ", ".join(attendee.user_id for attendee in view.attendees),
        "version": str(view.version),
        "reason": "",
        "scope": "this",
        "from_date": view.date.isoformat(),
    }


async def _edit_page(
    page: PageContext, state: FormState, *, user: AuthenticatedUser, reservation_id: int
) -> Response:
    """The edit form (`state`: what was typed and the messages; empty: as it is now)."""
    view = await reservations_reads.get_reservation(
        page.db, reservation_id=reservation_id, viewer=_actor(user), locale=page.locale
    )
    rules.check_can_edit(
        await delegation.actor_for(page.db, _actor(user), view.user_id),
        owner_id=view.user_id,
        status=view.status,
        day=view.date,
        end_minute=view.end_time,
        now=page.now,
        tz=page.settings.tz,
    )
    rooms = [room for room in await rooms_service.list_rooms(page.db) if room.active]
    # Any slot boundary of a day: the meeting may move to another room with other hours
    # (the service refuses a time outside them, naming the hours).
    starts, ends = offered_times(
        slot_minutes=page.settings.slot_minutes,
        first_minute=0,
        last_minute=MINUTES_PER_DAY,
        gone_until=0,
    )
    return render(
        page.request,
        "reservation_edit.html",
        {
            "r": view,
            "rooms": rooms,
            "start_choices": starts,
            "end_choices": ends,
            "values": state.values or _form_values(view),
            "errors": state.errors,
            "stale": state.status_code == 412,
            "for_someone_else": view.user_id != user.user_id,
            "title_max": TITLE_MAX_LENGTH,
            "description_max": DESCRIPTION_MAX_LENGTH,
            "reason_max": REASON_MAX_LENGTH,
        },
        status_code=state.status_code,
    )


@router.get("/reservations/{reservation_id}/edit")
async def edit_form(reservation_id: ReservationIdPath, page: Page, user: PageUser) -> Response:
    return await _edit_page(
        page, FormState(locale=page.locale), user=user, reservation_id=reservation_id
    )


@dataclass(frozen=True)
class _Edit:
    change: ReservationUpdate
    version: int
    # An occurrence of a series: "this" date, "following" dates from `from_date`, or "all".
    scope: tuple[str, date | None] = ("this", None)


_EDIT_FIELDS = (
    "date",
    "start_time",
    "end_time",
    "room_id",
    "version",
    "reason",
    "scope",
    "from_date",
)


def _parse_edit(form: FormData, state: FormState) -> _Edit | None:
    """The reservation as it should be, and the version the form was filled from."""
    state.values = {**text_values(form, _EDIT_FIELDS), **meeting_values(form)}
    values = state.values
    body = state.validate(
        ReservationUpdate,
        {
            "date": values["date"],
            "start_time": values["start_time"],
            "end_time": values["end_time"],
            "room_id": values["room_id"],
            "reason": values["reason"],
            **meeting_data(values),
        },
    )
    attendee_messages_on_the_field(state)
    if not values["version"].isdigit() or len(values["version"]) > 9:
        # The hidden field tampered with: the form cannot say what it was changed from.
        state.add_error("", N_("This form is out of date. Reload the page and try again."))
        return None
    scope = series_pages.parse_scope(values, state, scopes=("this", "following", "all"))
    if body is None or scope is None:
        return None
    if scope[0] != "this" and values["date"] != values["from_date"]:
        state.add_error(
            "date",
            N_("Only one date can move to another day: choose “This date only”."),
        )
        return None
    return _Edit(change=body, version=int(values["version"]), scope=scope)


@router.post("/reservations/{reservation_id}/edit")
async def edit(reservation_id: ReservationIdPath, page: Page, user: PageUser) -> Response:
    """Change or move the reservation and show it; what is refused is said next to its
    field, a taken time names the reservation in the way, and a change made meanwhile by
    someone else (an older version) asks to reload."""
    actor = _actor(user)

    async def change(parsed: _Edit) -> Response:
        body = parsed.change
        if parsed.scope[0] != "this":
            view = await reservations_reads.get_reservation(
                page.db, reservation_id=reservation_id, viewer=actor, locale=page.locale
            )
            if view.series_id is not None:
                await series_pages.change_series(
                    page,
                    user=user,
                    series_id=view.series_id,
                    change=series_pages.series_change(body, parsed.scope),
                )
                return redirect(f"/series/{view.series_id}?done=series_changed")
        await reservations_editing.edit(
            page.db,
            settings=page.settings,
            actor=actor,
            reservation_id=reservation_id,
            change=reservations_editing.Change(
                day=body.date,
                start_minute=body.start_time,
                end_minute=body.end_time,
                room_id=body.room_id,
                title=body.title,
                description=body.description,
                visibility=body.visibility,
                attendees=body.attendees,
            ),
            now=page.now,
            expected_versions={parsed.version},
            reason=body.reason,
            locale=page.locale,
        )
        return redirect(f"/reservations/{reservation_id}?done=changed")

    async def explain(exc: DomainError) -> str | None:
        if isinstance(exc, ReservationConflict):
            return await conflict_message(page.db, page.locale, actor, exc)
        return await series_booking.series_conflict_message(page, actor, exc)

    async def again(state: FormState) -> Response:
        return await _edit_page(page, state, user=user, reservation_id=reservation_id)

    return await submit(
        page.request,
        locale=page.locale,
        parse=_parse_edit,
        action=change,
        render_again=again,
        explain=explain,
    )
