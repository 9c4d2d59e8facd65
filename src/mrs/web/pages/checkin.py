"""Check-in on the pages: the "Check in" button of a booking (its page, and the room's
door page), the door page itself (the room's meeting now and the next one today, at
`/rooms/{id}/door`), and the door page's QR code for administrators to print."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import qrcode
from fastapi import APIRouter
from qrcode.image.svg import SvgPathImage
from starlette.datastructures import FormData
from starlette.responses import Response

from mrs.accounts.sessions import AuthenticatedUser
from mrs.http.types import ReservationIdPath, RoomIdPath
from mrs.reservations import checkin, rules
from mrs.reservations import reads as reservations_reads
from mrs.reservations.models import ReservationStatus
from mrs.rooms import service as rooms_service
from mrs.wallclock import wall_instant
from mrs.web.dependencies import Page, PageAdmin, PageContext, PageUser
from mrs.web.forms import FormState, submit, text_values
from mrs.web.pages.common import redirect, safe_next, site_now
from mrs.web.rendering import render

router = APIRouter()


def door_path(room_id: int) -> str:
    """The room's door page (what its QR code encodes, on the site's address)."""
    return f"/rooms/{room_id}/door"


def _actor(user: AuthenticatedUser) -> rules.Actor:
    return rules.Actor(user_id=user.user_id, is_admin=user.is_admin)


@dataclass(frozen=True)
class CheckinOffer:
    """What a page says about checking in to one booking: the state, and whether the
    button is offered now (the service decides again on the POST)."""

    state: checkin.CheckinState
    open_now: bool
    too_early: bool
    # "HH:MM" in the site's time zone: when check-in opens and closes, and when it was made.
    opens: str
    closes: str
    checked_in: str | None


async def offer(
    page: PageContext, user: AuthenticatedUser, reservation_id: int
) -> CheckinOffer | None:
    """The check-in a reader is offered on a booking; None when none applies to them."""
    state = await checkin.checkin_state(
        page.db,
        settings=page.settings,
        actor=_actor(user),
        reservation_id=reservation_id,
        now=page.now,
    )
    if state is None:
        return None
    window = state.window
    return CheckinOffer(
        state=state,
        open_now=(
            state.status == ReservationStatus.ACTIVE
            and state.checked_in_at is None
            and window.opens_at <= page.now <= window.closes_at
        ),
        too_early=page.now < window.opens_at,
        opens=_hm(window.opens_at, page),
        closes=_hm(window.closes_at, page),
        checked_in=_hm(state.checked_in_at, page) if state.checked_in_at else None,
    )


def _hm(moment: datetime, page: PageContext) -> str:
    return moment.astimezone(page.settings.tz).strftime("%H:%M")


def _parse(form: FormData, state: FormState) -> str:
    state.values = text_values(form, ("next",))
    return state.values["next"]


@router.post("/reservations/{reservation_id}/check-in")
async def check_in(reservation_id: ReservationIdPath, page: Page, user: PageUser) -> Response:
    """Check in and go back (to the booking's page, or the door page it came from); a
    refusal (too early, released, not allowed) is shown on a page of its own."""

    async def act(next_url: str) -> Response:
        await checkin.check_in(
            page.db,
            settings=page.settings,
            actor=_actor(user),
            reservation_id=reservation_id,
            now=page.now,
        )
        target = safe_next(next_url, f"/reservations/{reservation_id}")
        separator = "&" if "?" in target else "?"
        return redirect(f"{target}{separator}done=checked_in")

    async def again(state: FormState) -> Response:
        back = safe_next(state.values.get("next"), f"/reservations/{reservation_id}")
        return render(
            page.request,
            "checkin_refused.html",
            {"errors": state.errors, "back": back},
            status_code=state.status_code,
        )

    return await submit(
        page.request, locale=page.locale, parse=_parse, action=act, render_again=again
    )


@router.get("/rooms/{room_id}/door")
async def door(room_id: RoomIdPath, page: Page, user: PageUser) -> Response:
    """The room's meeting now and its next one today, with "Check in" for those who may."""
    room = await rooms_service.get_room(page.db, room_id=room_id)
    today = site_now(page.now, page.settings).date()
    meetings = await reservations_reads.reservations_of_room_day(
        page.db, room_id=room_id, day=today, viewer=_actor(user), locale=page.locale
    )
    tz = page.settings.tz
    current = next(
        (
            each
            for each in meetings
            if wall_instant(each.date, each.start_time, tz)
            <= page.now
            < wall_instant(each.date, each.end_time, tz)
        ),
        None,
    )
    upcoming = next(
        (each for each in meetings if wall_instant(each.date, each.start_time, tz) > page.now),
        None,
    )
    shown: list[dict[str, Any]] = []
    for label, meeting in (("now", current), ("next", upcoming)):
        if meeting is not None:
            shown.append(
                {
                    "label": label,
                    "r": meeting,
                    "checkin": await offer(page, user, meeting.reservation_id),
                }
            )
    return render(
        page.request,
        "door.html",
        {
            "room": room,
            "today": today,
            "meetings": shown,
            "here": door_path(room_id),
            "done": page.request.query_params.get("done") == "checked_in",
        },
    )


def door_qr_svg(url: str) -> bytes:
    """`url` as a QR code in SVG (drawn here: no image library, no outside service)."""
    image = qrcode.make(url, image_factory=SvgPathImage, box_size=10, border=4)
    out = io.BytesIO()
    image.save(out)
    return out.getvalue()


@router.get("/admin/rooms/{room_id}/door-qr.svg")
async def door_qr(room_id: RoomIdPath, page: Page, _admin: PageAdmin) -> Response:
    """The QR code of the room's door page, to print and put on its door."""
    await rooms_service.get_room(page.db, room_id=room_id)  # 404 for an unknown room
    svg = door_qr_svg(page.settings.site_url + door_path(room_id))
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "no-store"})
