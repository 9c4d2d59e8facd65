"""Administrators: the site's closure days (company holidays, 年末年始): the upcoming ones,
adding one (every room closes that date), removing one."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter
from starlette.datastructures import FormData
from starlette.responses import Response

from mrs.http.types import IsoDate
from mrs.reservations import closing
from mrs.reservations.errors import RoomHasReservations
from mrs.rooms import opening as rooms_opening
from mrs.rooms import service as rooms_service
from mrs.rooms.schemas import ClosureDayCreate
from mrs.web.dependencies import Page, PageAdmin, PageContext
from mrs.web.forms import FormState, no_fields, submit, text_values
from mrs.web.pages.common import done_message, redirect, site_now
from mrs.web.rendering import render

router = APIRouter()

FIELDS = ("date", "label")


async def _page(page: PageContext, state: FormState) -> Response:
    """The closure days from today on, the form adding one, and, when adding was refused
    because of reservations, those reservations with links to their room's day."""
    today = site_now(page.now, page.settings).date()
    refusal = state.refusal
    blocking = []
    if isinstance(refusal, RoomHasReservations):
        names = {room.room_id: room.room_name for room in await rooms_service.list_rooms(page.db)}
        blocking = [
            detail
            | {"day": date.fromisoformat(detail["date"]), "room_name": names.get(detail["room_id"])}
            for detail in refusal.details or []
        ]
    return render(
        page.request,
        "admin/closure_days.html",
        {
            "closures": await rooms_opening.list_closure_days(page.db, from_date=today),
            "values": state.values,
            "errors": state.errors,
            "blocking": blocking,
            "today": today,
            "done": done_message(page.request, page.locale),
        },
        status_code=state.status_code,
    )


@router.get("/admin/closure-days")
async def closure_days(page: Page, _admin: PageAdmin) -> Response:
    return await _page(page, FormState(locale=page.locale, values=dict.fromkeys(FIELDS, "")))


def _parse_closure(form: FormData, state: FormState) -> ClosureDayCreate | None:
    state.values = text_values(form, FIELDS)
    return state.validate(ClosureDayCreate, state.values)


@router.post("/admin/closure-days")
async def closure_day_add(page: Page, admin: PageAdmin) -> Response:
    """Add a closure day; refused while reservations fall on it (they are listed)."""

    async def add(body: ClosureDayCreate) -> Response:
        await closing.add_closure_day(
            page.db, day=body.date, label=body.label, created_by=admin.user_id, now=page.now
        )
        return redirect("/admin/closure-days?done=closure_added")

    async def again(state: FormState) -> Response:
        return await _page(page, state)

    return await submit(
        page.request, locale=page.locale, parse=_parse_closure, action=add, render_again=again
    )


@router.post("/admin/closure-days/{day}/delete")
async def closure_day_delete(day: IsoDate, page: Page, admin: PageAdmin) -> Response:
    async def delete(_: bool) -> Response:
        await rooms_opening.delete_closure_day(page.db, day=day, actor_id=admin.user_id)
        return redirect("/admin/closure-days?done=closure_deleted")

    async def again(state: FormState) -> Response:
        state.values = dict.fromkeys(FIELDS, "")
        return await _page(page, state)

    return await submit(
        page.request, locale=page.locale, parse=no_fields, action=delete, render_again=again
    )
