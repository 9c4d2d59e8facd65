"""Calendar feed routes: the feeds themselves (the token in the URL is the credential,
no session needed) and the caller's own token under /api/me."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request, status
from starlette.responses import Response

from mrs.accounts.dependencies import AuthNowDep, CurrentUser
from mrs.calendars import feed_tokens, feeds
from mrs.calendars.feed_schemas import (
    CalendarFeedCreated,
    CalendarFeedRead,
    FeedRoomRead,
    RoomFeedUrl,
)
from mrs.http.conditional import http_date, is_fresh
from mrs.http.dependencies import DatabaseDep, LocaleDep, NowDep, SettingsDep

router = APIRouter(tags=["calendars"])

CALENDAR_MEDIA_TYPE = "text/calendar; charset=utf-8"
# Room ids in a feed URL: checked here, so a malformed one is the same 404 as an unknown.
_ROOM_ID = re.compile(r"[0-9]{1,9}")
_FEED_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/calendar": {}}, "description": "The feed (iCalendar)"},
    304: {"description": "Not modified since the ETag / Last-Modified the client has"},
    404: {"description": "No feed here (unknown, revoked or malformed token; no such feed)"},
}


async def _feed_response(
    request: Request,
    *,
    db: DatabaseDep,
    settings: SettingsDep,
    now: NowDep,
    locale: str,
    token: str,
    room_id: int | None,
) -> Response:
    """A feed, or 304 when the client's copy is current (decided without building it)."""
    feed = await feeds.open_feed(
        db, settings=settings, token=token, room_id=room_id, fallback_locale=locale, now=now
    )
    validator = await feeds.feed_validator(db, feed)
    headers = {
        "ETag": validator.etag,
        "Last-Modified": http_date(validator.last_modified),
        # Only the subscriber's own cache, and it asks again each time (cheaply: 304).
        "Cache-Control": "private, no-cache",
    }
    if is_fresh(
        if_none_match=request.headers.get("if-none-match"),
        if_modified_since=request.headers.get("if-modified-since"),
        etag=validator.etag,
        last_modified=validator.last_modified,
    ):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    cache: feeds.FeedCache = request.app.state.feed_cache
    text = await feeds.feed_body(db, feed, validator, settings=settings, cache=cache)
    return Response(text, media_type=CALENDAR_MEDIA_TYPE, headers=headers)


@router.get(
    "/calendar/{token}.ics",
    response_class=Response,
    responses=_FEED_RESPONSES,
    summary="The token's user's calendar feed",
)
async def user_feed(
    token: str,
    request: Request,
    db: DatabaseDep,
    settings: SettingsDep,
    now: NowDep,
    locale: LocaleDep,
) -> Response:
    """Meetings the user owns or attends, from `calendar_feed_days_back` days ago on."""
    return await _feed_response(
        request, db=db, settings=settings, now=now, locale=locale, token=token, room_id=None
    )


@router.get(
    "/calendar/{token}/rooms/{room_id}.ics",
    response_class=Response,
    responses=_FEED_RESPONSES,
    summary="A room's calendar feed",
)
async def room_feed(
    token: str,
    room_id: str,
    request: Request,
    db: DatabaseDep,
    settings: SettingsDep,
    now: NowDep,
    locale: LocaleDep,
) -> Response:
    """Every meeting of a room that publishes a feed; others' private meetings read Busy."""
    if not _ROOM_ID.fullmatch(room_id):
        raise feeds.FeedNotFound()
    return await _feed_response(
        request,
        db=db,
        settings=settings,
        now=now,
        locale=locale,
        token=token,
        room_id=int(room_id),
    )


@router.get("/api/me/calendar-feed", response_model=CalendarFeedRead)
async def my_calendar_feed(user: CurrentUser, db: DatabaseDep) -> CalendarFeedRead:
    """Whether the caller has a feed, and which rooms publish one (the URLs are shown
    only when the token is made)."""
    found = await feed_tokens.feed_status(db, user_id=user.user_id)
    return CalendarFeedRead(
        exists=found.exists,
        created_at=found.created_at,
        rooms=[
            FeedRoomRead(room_id=room.room_id, room_name=room.room_name) for room in found.rooms
        ],
    )


@router.post(
    "/api/me/calendar-feed",
    response_model=CalendarFeedCreated,
    status_code=status.HTTP_201_CREATED,
)
async def create_calendar_feed(
    request: Request, user: CurrentUser, db: DatabaseDep, settings: SettingsDep, now: AuthNowDep
) -> CalendarFeedCreated:
    """Make the caller's feed token (replacing an earlier one, whose URLs stop working);
    its URLs are in this answer only."""
    token = await feed_tokens.create_token(db, user_id=user.user_id, now=now)
    found = await feed_tokens.feed_status(db, user_id=user.user_id)
    base = feed_tokens.subscribe_base(settings.public_url, str(request.base_url))
    return CalendarFeedCreated(
        url=feed_tokens.feed_url(base, token),
        room_urls=[
            RoomFeedUrl(
                room_id=room.room_id,
                room_name=room.room_name,
                url=feed_tokens.feed_url(base, token, room.room_id),
            )
            for room in found.rooms
        ],
        created_at=found.created_at or now,
    )


@router.delete("/api/me/calendar-feed", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_calendar_feed(user: CurrentUser, db: DatabaseDep) -> None:
    """Revoke the caller's feed token: its URLs answer 404 from now on (done if none)."""
    await feed_tokens.revoke_token(db, user_id=user.user_id)
