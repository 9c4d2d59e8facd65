"""Routes of the views that help find a slot: free-room search and the day timeline of
every room. (A room's reservations over several days is the `from`/`to` form of
`GET /api/rooms/{id}/reservations`, in `api.py`.)

Registered before the rooms' routes: `/api/rooms/available` is not a room id."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from pydantic_core import to_json
from starlette.responses import Response

from mrs.accounts.dependencies import CurrentUser
from mrs.http.dependencies import DatabaseDep, LocaleDep, NowDep, SettingsDep
from mrs.http.types import ClockTime, HourMinute, IsoDate
from mrs.reservations import rules, search, timelines
from mrs.wallclock import format_minute

router = APIRouter(prefix="/api")


def _json(body: object) -> Response:
    """A body of plain lists and dicts, already in the shape of the route's response
    model, as JSON. The views answer hundreds of rooms at once, and FastAPI's check of
    every item against the response model, then its serialisation, was most of a
    search's CPU time; the models stay the documented shape (and the tests hold the
    answers to it)."""
    return Response(to_json(body), media_type="application/json")


class FreeRoomRead(BaseModel):
    room_id: int
    room_name: str
    capacity: int | None
    location: str | None
    equipment: list[str] = Field(description="Equipment codes the room offers, sorted.")


class TimelineBookingRead(BaseModel):
    reservation_id: int
    start_time: ClockTime
    end_time: ClockTime
    title: str = Field(
        description="What the caller may see: the title, the owner's name when none was "
        'given, or "Reserved" (translated) for a private meeting of someone else.'
    )
    details_visible: bool = Field(
        description="False for a private meeting the caller neither owns nor attends."
    )
    visibility: str
    owner_id: str
    owner_name: str
    series_id: int | None = Field(
        default=None, description="The recurring series it belongs to; null for a single booking."
    )
    is_exception: bool = Field(
        default=False, description="An occurrence changed on its own (series edits leave it)."
    )


class TimelineRoomRead(BaseModel):
    room_id: int
    room_name: str
    capacity: int | None
    location: str | None
    equipment: list[str]
    reservations: list[TimelineBookingRead]


class TimelineRead(BaseModel):
    date: date
    rooms: list[TimelineRoomRead]


@router.get(
    "/rooms/available",
    response_model=list[FreeRoomRead],
    tags=["rooms"],
    responses={422: {"description": "A bad date, time range, capacity or equipment code"}},
)
async def free_rooms(
    _user: CurrentUser,
    db: DatabaseDep,
    settings: SettingsDep,
    day: Annotated[IsoDate, Query(alias="date", description="YYYY-MM-DD")],
    start_time: Annotated[HourMinute, Query(description="HH:MM, on a slot boundary")],
    end_time: Annotated[HourMinute, Query(description="HH:MM, after start_time")],
    capacity: Annotated[
        int | None, Query(ge=1, le=10000, description="Seats needed at least")
    ] = None,
    equipment: Annotated[
        str,
        Query(
            max_length=500,
            description=f"Comma-separated equipment codes (at most "
            f"{search.MAX_EQUIPMENT_CODES}); every one must be offered",
        ),
    ] = "",
) -> Response:
    """Rooms bookable and free for the whole range that seat `capacity` and offer all the
    equipment: the smallest adequate room first (capacity ascending, rooms of unknown
    capacity last, then by name)."""
    query = search.FreeRoomQuery(
        day=day,
        start_minute=start_time,
        end_minute=end_time,
        capacity=capacity,
        equipment=search.parse_equipment_codes(equipment),
    )
    rooms = await search.free_rooms(db, settings=settings, query=query)
    return _json([room._asdict() for room in rooms])


@router.get("/timeline", response_model=TimelineRead, tags=["reservations"])
async def day_timeline(
    user: CurrentUser,
    db: DatabaseDep,
    settings: SettingsDep,
    now: NowDep,
    locale: LocaleDep,
    day: Annotated[
        IsoDate | None, Query(alias="date", description="YYYY-MM-DD; today by default")
    ] = None,
) -> Response:
    """Every room bookable on the date with its equipment and reservations (one query);
    a private meeting of someone else shows only "Reserved" and its owner."""
    target: date = day or now.astimezone(settings.tz).date()
    viewer = rules.Actor(user_id=user.user_id, is_admin=user.is_admin)
    rooms = await timelines.day_timeline(db, day=target, viewer=viewer)
    return _json(
        {
            "date": target.isoformat(),
            "rooms": [
                {
                    "room_id": room.room_id,
                    "room_name": room.room_name,
                    "capacity": room.capacity,
                    "location": room.location,
                    "equipment": room.equipment,
                    "reservations": [
                        {
                            "reservation_id": booking.reservation_id,
                            "start_time": format_minute(booking.start_time),
                            "end_time": format_minute(booking.end_time),
                            "title": timelines.shown_title(locale, booking),
                            "details_visible": booking.details_visible,
                            "visibility": booking.visibility,
                            "owner_id": booking.owner_id,
                            "owner_name": timelines.owner_name(locale, booking),
                            "series_id": booking.series_id,
                            "is_exception": booking.is_exception,
                        }
                        for booking in room.bookings
                    ],
                }
                for room in rooms
            ],
        }
    )
