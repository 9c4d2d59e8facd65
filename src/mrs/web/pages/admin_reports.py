"""Administrators: utilisation reports over a period (the last 30 days unless asked):
per room, booked ÷ bookable hours and cancellations; the busiest hours; each as a chart
drawn on the server, a table with the same numbers, and a CSV download."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, field_validator
from starlette.responses import Response

from mrs.errors import DomainError
from mrs.http.types import MAX_INT32, IsoDate
from mrs.i18n import translate
from mrs.reports import no_shows, service
from mrs.reports.periods import Period, default_period, period
from mrs.rooms import service as rooms_service
from mrs.web.charts import bar_chart
from mrs.web.dependencies import Page, PageAdmin
from mrs.web.forms import MAX_VALUE_LENGTH, FormState, attempt
from mrs.web.pages.admin_rooms import WEEKDAY_SHORT_NAMES
from mrs.web.pages.common import site_now
from mrs.web.rendering import render

router = APIRouter()

_FIELDS = ("from", "to", "room_id")


class _PeriodForm(BaseModel):
    """The period form, checked with the same types as the API's query."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    first: IsoDate
    last: IsoDate
    room_id: int | None = None

    @field_validator("room_id", mode="before")
    @classmethod
    def _blank_is_every_room(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("room_id")
    @classmethod
    def _a_room_id(cls, value: int | None) -> int | None:
        if value is not None and not 1 <= value <= MAX_INT32:
            raise ValueError("Choose a room from the list.")
        return value


def _hours(minutes: int) -> str:
    return f"{minutes / 60:.1f}"


def _percent(value: float) -> str:
    return f"{value * 100:.1f}%"


def _read(values: dict[str, str], state: FormState) -> tuple[Period, int | None] | None:
    form = state.validate(
        _PeriodForm, {"first": values["from"], "last": values["to"], "room_id": values["room_id"]}
    )
    if form is None:
        # The form's fields are named as in the API (from, to), the model's otherwise.
        for model_name, name in (("first", "from"), ("last", "to")):
            message = state.errors.get(model_name)
            if message:
                state.errors.add(name, message)
        return None
    try:
        return period(form.first, form.last), form.room_id
    except DomainError as exc:  # backwards or too long: shown next to "to"
        state.refuse(exc)
        return None


@router.get("/admin/reports")
async def reports(page: Page, _admin: PageAdmin) -> Response:
    """The period form and, for a valid period, the charts, tables and CSV links."""
    params = page.request.query_params
    values = {
        name: params.get(name, "").replace("\x00", "").strip()[:MAX_VALUE_LENGTH]
        for name in _FIELDS
    }
    if not values["from"] and not values["to"]:
        span = default_period(site_now(page.now, page.settings).date())
        values["from"], values["to"] = span.first.isoformat(), span.last.isoformat()
    state = FormState(locale=page.locale, values=values)
    asked = _read(values, state)
    context: dict[str, Any] = {
        "values": values,
        "errors": state.errors,
        "rooms": await rooms_service.list_rooms(page.db),
        "report": None,
    }
    if asked is not None:
        span, room_id = asked
        rows = await attempt(state, service.utilisation(page.db, period=span, room_id=room_id))
        hours = await service.busiest_hours(page.db, period=span)
        every_room = rows if rows is not None and room_id is None else None
        groups = await service.group_utilisation(
            page.db,
            period=span,
            all_rooms_bookable=(
                sum(row.bookable_minutes for row in every_room) if every_room else None
            ),
        )
        if rows is not None:
            context["report"] = _report(page.locale, span, room_id, rows, hours)
            context["report"]["groups"] = _groups(span, groups)
            missed = await no_shows.no_shows(
                page.db, period=span, now=page.now, tz=page.settings.tz, room_id=room_id
            )
            context["report"]["no_shows"] = _no_shows(rows, missed)
    status = (state.status_code if state.refusal else 422) if state.errors else 200
    return render(page.request, "admin/reports.html", context, status_code=status)


def _no_shows(
    rows: list[service.RoomUtilisation], missed: dict[int, no_shows.NoShows]
) -> dict[str, Any]:
    """The rooms asking for check-in in which a booking started, and all of them together."""
    names = {row.room_id: row.room_name for row in rows}

    def shown(name: str, each: no_shows.NoShows) -> dict[str, Any]:
        return {
            "name": name,
            "started": each.started,
            "released": each.released,
            "rate": _percent(each.rate),
        }

    return {
        "rows": [
            shown(names[room_id], each)
            for room_id, each in sorted(missed.items(), key=lambda item: names.get(item[0], ""))
            if room_id in names
        ],
        "total": shown("", no_shows.total(missed)),
    }


def _groups(span: Period, rows: list[service.GroupUtilisation]) -> dict[str, Any]:
    query = {"from": span.first.isoformat(), "to": span.last.isoformat(), "format": "csv"}
    return {
        "bookable": _hours(rows[0].bookable_minutes) if rows else "0.0",
        "rows": [
            {
                "name": row.group_name,
                "members": row.members,
                "booked": _hours(row.booked_minutes),
                "utilisation": _percent(row.utilisation),
                "reservations": row.reservations,
                "cancelled": row.cancelled,
                "cancelled_share": _percent(row.cancelled_share),
            }
            for row in rows
        ],
        "chart": bar_chart(
            [(row.group_name, row.utilisation, _percent(row.utilisation)) for row in rows]
        ),
        "csv": "/api/admin/reports/groups?" + urlencode(query),
    }


def _report(
    locale: str,
    span: Period,
    room_id: int | None,
    rows: list[service.RoomUtilisation],
    hours: service.BusiestHours,
) -> dict[str, Any]:
    query = {"from": span.first.isoformat(), "to": span.last.isoformat()}
    room_query = {**query, **({"room_id": str(room_id)} if room_id is not None else {})}
    by_hour = hours.by_hour()
    return {
        "period": span,
        "rooms": [
            {
                "name": row.room_name,
                "bookable": _hours(row.bookable_minutes),
                "booked": _hours(row.booked_minutes),
                "utilisation": _percent(row.utilisation),
                "reservations": row.reservations,
                "cancelled": row.cancelled,
                "cancelled_share": _percent(row.cancelled_share),
            }
            for row in rows
        ],
        "room_chart": bar_chart(
            [(row.room_name, row.utilisation, _percent(row.utilisation)) for row in rows],
            scale=1.0,
        ),
        "hour_chart": bar_chart(
            [(f"{hour:02d}:00", minutes, _hours(minutes)) for hour, minutes in by_hour.items()]
        ),
        "weekdays": [translate(locale, name) for name in WEEKDAY_SHORT_NAMES],
        "hour_rows": [
            {
                "hour": f"{hour:02d}:00",
                "days": [_hours(hours.minutes[day][hour]) for day in service.WEEKDAYS],
                "total": _hours(by_hour[hour]),
            }
            for hour in service.HOURS
        ],
        "utilisation_csv": "/api/admin/reports/utilisation?"
        + urlencode({**room_query, "format": "csv"}),
        "hours_csv": "/api/admin/reports/busiest-hours?" + urlencode({**query, "format": "csv"}),
    }
