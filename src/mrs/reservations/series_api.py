"""Recurring series routes: parse, call `series`, answer (the rules live in the service)."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, status
from starlette.responses import Response

from mrs.accounts.dependencies import CurrentUser
from mrs.http.dependencies import DatabaseDep, LocaleDep, NowDep, SettingsDep
from mrs.http.types import MAX_INT64, IsoDate, RoomIdPath
from mrs.reservations import delegation, series
from mrs.reservations.api import actor_of, if_match_versions
from mrs.reservations.editing import KEEP
from mrs.reservations.schemas import (
    AttendeeRead,
    OccurrenceRead,
    PlannedDateRead,
    ReservationRead,
    SeriesChangedRead,
    SeriesCreate,
    SeriesCreated,
    SeriesPreviewRead,
    SeriesRead,
    SeriesUpdate,
    SkippedDateRead,
)

router = APIRouter(prefix="/api")
_TAGS: list[str | Enum] = ["series"]

SeriesIdPath = Annotated[int, Path(ge=1, le=MAX_INT64, description="Series id")]
IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        max_length=1000,
        description='The ETag of the series read (e.g. "3"): a stale one is refused with 412.',
    ),
]


def _fields(room_id: int, body: SeriesCreate) -> series.SeriesFields:
    return series.SeriesFields(
        room_id=room_id,
        start_date=body.start_date,
        start_minute=body.start_time,
        end_minute=body.end_time,
        rule=body.rule,
        title=body.title,
        description=body.description,
        visibility=body.visibility,
        attendees=body.attendees,
    )


def _skipped(dates: list[series.PlannedDate]) -> list[SkippedDateRead]:
    return [
        SkippedDateRead(date=each.date, reason=each.reason, reservation_id=each.reservation_id)
        for each in dates
    ]


def _series(view: series.SeriesView) -> dict[str, Any]:
    """The fields of a SeriesRead (or SeriesChangedRead) from the service's view."""
    occurrences = [
        OccurrenceRead.model_validate(each, from_attributes=True) for each in view.occurrences
    ]
    plain = {
        name: getattr(view, name)
        for name in SeriesRead.model_fields
        if name not in ("occurrences", "exceptions", "attendees")
    }
    return {
        **plain,
        "attendees": [
            AttendeeRead(user_id=each.user_id, display_name=each.display_name)
            for each in view.attendees
        ],
        "occurrences": occurrences,
        "exceptions": [each for each in occurrences if each.is_exception],
    }


@router.post(
    "/rooms/{room_id}/series",
    response_model=SeriesCreated,
    status_code=status.HTTP_201_CREATED,
    responses={
        403: {"description": "`on_behalf_of` has not named the caller as a delegate"},
        409: {"description": "With on_conflict=fail: dates taken or not bookable (details.dates)"},
        422: {
            "description": "Invalid request or rule, the series too long, or `on_behalf_of` "
            "not an active user"
        },
    },
    tags=_TAGS,
)
async def create_series(
    room_id: RoomIdPath,
    body: SeriesCreate,
    user: CurrentUser,
    db: DatabaseDep,
    settings: SettingsDep,
    now: NowDep,
    locale: LocaleDep,
) -> SeriesCreated:
    """Book a recurring series of reservations, all or nothing; with `on_behalf_of`, for
    a user who named the caller as a delegate (each occurrence's `booked_by`)."""
    owner_id, booked_by = await delegation.booking_owner(
        db, actor=actor_of(user), on_behalf_of=body.on_behalf_of
    )
    booked = await series.create(
        db,
        settings=settings,
        user_id=owner_id,
        booked_by=booked_by,
        fields=_fields(room_id, body),
        on_conflict=body.on_conflict,
        now=now,
        locale=locale,
    )
    return SeriesCreated(
        series_id=booked.series_id,
        rule=booked.rule,
        occurrences=[
            ReservationRead.model_validate(each, from_attributes=True)
            for each in booked.occurrences
        ],
        skipped=_skipped(booked.skipped),
    )


@router.post(
    "/rooms/{room_id}/series/preview",
    response_model=SeriesPreviewRead,
    responses={
        403: {"description": "`on_behalf_of` has not named the caller as a delegate"},
        422: {"description": "Invalid request or rule, or the series too long"},
    },
    tags=_TAGS,
)
async def preview_series(
    room_id: RoomIdPath,
    body: SeriesCreate,
    user: CurrentUser,
    db: DatabaseDep,
    settings: SettingsDep,
    now: NowDep,
) -> SeriesPreviewRead:
    """Every date the rule gives: free, taken (by which reservation) or not bookable
    (why), judged for `on_behalf_of` when given. Nothing is written."""
    owner_id, _ = await delegation.booking_owner(
        db, actor=actor_of(user), on_behalf_of=body.on_behalf_of
    )
    planned = await series.preview(
        db, settings=settings, user_id=owner_id, fields=_fields(room_id, body), now=now
    )
    return SeriesPreviewRead(
        dates=[
            PlannedDateRead(
                date=each.date,
                state=each.state.value,
                reason=each.reason,
                reservation_id=each.reservation_id,
            )
            for each in planned
        ]
    )


@router.get(
    "/series/{series_id}",
    response_model=SeriesRead,
    responses={404: {"description": "No such series"}},
    tags=_TAGS,
)
async def get_series(
    series_id: SeriesIdPath,
    user: CurrentUser,
    db: DatabaseDep,
    locale: LocaleDep,
    response: Response,
) -> SeriesRead:
    """A series (a private one's details only for its owner, attendees and
    administrators), its occurrences and exceptions, with its version as the `ETag`."""
    view = await series.get_series(db, series_id=series_id, viewer=actor_of(user), locale=locale)
    response.headers["ETag"] = f'"{view.version}"'
    return SeriesRead(**_series(view))


@router.patch(
    "/series/{series_id}",
    response_model=SeriesChangedRead,
    responses={
        403: {"description": "Neither the owner nor an administrator"},
        404: {"description": "No such series"},
        409: {"description": "Dates taken or not bookable (details.dates), or cancelled"},
        412: {"description": "If-Match does not hold the current version (ETag)"},
        422: {"description": "Invalid request or rule"},
    },
    tags=_TAGS,
)
async def change_series(
    series_id: SeriesIdPath,
    body: SeriesUpdate,
    user: CurrentUser,
    db: DatabaseDep,
    settings: SettingsDep,
    now: NowDep,
    locale: LocaleDep,
    response: Response,
    if_match: IfMatch = None,
) -> SeriesChangedRead:
    """Change a series for all occurrences to come, or from a date on ("following":
    the series is split there; the answer is the new series). Exceptions and the past
    are kept."""
    fields = body.model_fields_set
    view, skipped = await series.change(
        db,
        settings=settings,
        actor=actor_of(user),
        series_id=series_id,
        change=series.SeriesChange(
            scope=series.Scope(body.scope),
            from_date=body.from_date,
            title=body.title if "title" in fields else KEEP,
            description=body.description,
            visibility=body.visibility,
            attendees=body.attendees,
            start_minute=body.start_time,
            end_minute=body.end_time,
            rule=body.rule,
            room_id=body.room_id,
            on_conflict=body.on_conflict,
        ),
        now=now,
        expected_versions=if_match_versions(if_match),
        locale=locale,
    )
    response.headers["ETag"] = f'"{view.version}"'
    return SeriesChangedRead(**_series(view), skipped=_skipped(skipped))


@router.delete(
    "/series/{series_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={
        403: {"description": "Neither the owner nor an administrator"},
        404: {"description": "No such series"},
        409: {"description": "The series is already cancelled"},
        412: {"description": "If-Match does not hold the current version (ETag)"},
    },
    tags=_TAGS,
)
async def cancel_series(
    series_id: SeriesIdPath,
    user: CurrentUser,
    db: DatabaseDep,
    settings: SettingsDep,
    now: NowDep,
    from_date: Annotated[
        IsoDate | None,
        Query(description="Cancel from this date on (YYYY-MM-DD); all to come by default."),
    ] = None,
    reason: Annotated[
        str | None,
        Query(max_length=500, description="An administrator's reason, mailed to the owner."),
    ] = None,
    if_match: IfMatch = None,
) -> None:
    """Cancel the occurrences to come (kept as CANCELLED); the series is CANCELLED when
    none remains."""
    await series.cancel(
        db,
        settings=settings,
        actor=actor_of(user),
        series_id=series_id,
        now=now,
        from_date=from_date,
        expected_versions=if_match_versions(if_match),
        reason=reason,
    )
