"""Free-room search: a form (date, times, seats, equipment) and the rooms that fit, each
linking to its day with the booking form filled in."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, field_validator
from starlette.responses import Response

from mrs.errors import DomainError
from mrs.http.dependencies import DatabaseDep, LocaleDep, NowDep, SettingsDep
from mrs.http.types import HourMinute, IsoDate
from mrs.reservations import search
from mrs.rooms import equipment as equipment_list
from mrs.rooms.schemas import Seats
from mrs.web.dependencies import PageUser
from mrs.web.forms import MAX_VALUE_LENGTH, FormState, attempt
from mrs.web.pages.common import site_now
from mrs.web.rendering import render
from mrs.web.slots import offered_times

router = APIRouter()

_FIELDS = ("date", "start_time", "end_time", "capacity")


class _SearchForm(BaseModel):
    """The search form, checked with the same types as the API's query."""

    model_config = ConfigDict(extra="ignore")

    date: IsoDate
    start_time: HourMinute
    end_time: HourMinute
    capacity: Seats | None = None

    @field_validator("capacity", mode="before")
    @classmethod
    def _blank_is_any(cls, value: object) -> object:
        return None if value == "" else value


def _read(values: dict[str, str], codes: list[str], state: FormState) -> Any:
    """The search the form asks for, or None with messages by field."""
    form = state.validate(_SearchForm, dict(values))
    try:
        equipment = search.parse_equipment_codes(codes)
    except DomainError as exc:
        state.refuse(exc)
        return None
    if form is None:
        return None
    return search.FreeRoomQuery(
        day=form.date,
        start_minute=form.start_time,
        end_minute=form.end_time,
        capacity=form.capacity,
        equipment=equipment,
    )


@router.get("/search")
async def free_room_search(
    request: Request,
    user: PageUser,
    db: DatabaseDep,
    settings: SettingsDep,
    now: NowDep,
    locale: LocaleDep,
) -> Response:
    """The search form; with its fields filled in, the rooms free for the whole time."""
    params = request.query_params
    values = {
        name: params.get(name, "").replace("\x00", "").strip()[:MAX_VALUE_LENGTH]
        for name in _FIELDS
    }
    codes = [code[:MAX_VALUE_LENGTH] for code in params.getlist("equipment")[:50] if code]
    asked = any(values.values()) or bool(codes)
    if not values["date"]:
        values["date"] = site_now(now, settings).date().isoformat()
    state = FormState(locale=locale, values=values)
    results: list[search.FreeRoom] | None = None
    query = _read(values, codes, state) if asked else None
    if query is not None:
        results = await attempt(state, search.free_rooms(db, settings=settings, query=query))
    starts, ends = offered_times(
        slot_minutes=settings.slot_minutes,
        first_minute=settings.web_day_start_hour * 60,
        last_minute=settings.web_day_end_hour * 60,
        gone_until=0,
    )
    equipment = await equipment_list.list_equipment(db)
    names = {item.equipment_code: item.name(locale) for item in equipment}
    return render(
        request,
        "search.html",
        {
            "values": values,
            "chosen": set(codes),
            "equipment": equipment,
            "equipment_names": names,
            "errors": state.errors,
            "results": results,
            "query": query,
            "start_choices": starts,
            "end_choices": ends,
        },
        status_code=(state.status_code if state.refusal else 422) if state.errors else 200,
    )
