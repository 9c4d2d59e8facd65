"""Calendar feeds: what a feed token (`feed_tokens`) opens, its validator and its text.

Two feeds open with a token: the user's (meetings they own and those they attend) and a
room's (only rooms an administrator publishes, `MeetingRoom.has_feed`). Both hold
meetings from `calendar_feed_days_back` days before today on; a series is one event with
its RRULE, exceptions and overrides (`reading.events_of`). Cancelled meetings are left
out rather than sent as STATUS:CANCELLED: a subscribed calendar replaces its copy on
every poll, so an event that is no longer there disappears; cancelled occurrences of a
series are the series' EXDATEs.

Subscribers poll, so the validator (`FeedValidator`) is one aggregate query over the rows
the feed is built from, see `feed_validator`.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    Select,
    bindparam,
    func,
    literal_column,
    select,
    union,
)
from sqlalchemy.sql import Executable

from mrs.accounts.models import User, UserStatus
from mrs.calendars import ical, reading
from mrs.calendars.feed_tokens import is_token_shaped, token_hash
from mrs.calendars.models import CalendarFeed
from mrs.db.engine import Database
from mrs.errors import NotFound
from mrs.reservations import statements
from mrs.reservations.models import (
    Reservation,
    ReservationAttendee,
    ReservationSeries,
)
from mrs.rooms.models import MeetingRoom
from mrs.settings import Settings

_VALIDATOR_VERSION = "1"


class FeedNotFound(NotFound):
    """No feed here: an unknown, revoked or malformed token, or a room without a feed."""

    code = "feed_not_found"
    message = "There is no calendar feed at this address."


# --- opening a feed ---


@dataclass(frozen=True)
class Feed:
    """A feed a token opened: the user's own (room_id None) or a room's, seen by the user."""

    user_id: str
    locale: str
    room_id: int | None
    room_name: str | None
    from_date: date
    # The start of today (site time): the window moved then, so nothing is older.
    window_moved_at: datetime


# The hot statements run straight on psycopg (`Database.read`), which sends only the
# parameters given: every value is a named bind parameter.
_OWNER = (
    select(CalendarFeed.user_id, User.locale)
    .join(User, User.user_id == CalendarFeed.user_id)
    .where(
        CalendarFeed.token_hash == bindparam("token_hash"),
        User.status == bindparam("active_user"),
    )
)
_PUBLISHED_ROOM = select(MeetingRoom.room_name).where(
    MeetingRoom.room_id == bindparam("room_id"), MeetingRoom.has_feed.is_(True)
)


async def open_feed(
    db: Database,
    *,
    settings: Settings,
    token: str,
    room_id: int | None,
    fallback_locale: str,
    now: datetime,
) -> Feed:
    """The feed `token` opens (the user's, or room `room_id`'s), else FeedNotFound.

    An unknown token, a revoked one (its row deleted) and one of a user no longer active
    all take the same path: one indexed lookup of the hash that finds nothing. The
    presented token is never compared itself, so its value cannot leak through timing.
    """
    if not is_token_shaped(token):
        raise FeedNotFound()
    owners = await db.read(
        _OWNER, {"token_hash": token_hash(token), "active_user": UserStatus.ACTIVE.value}
    )
    if not owners:
        raise FeedNotFound()
    owner = owners[0]
    room_name = None
    if room_id is not None:
        rooms = await db.read(_PUBLISHED_ROOM, {"room_id": room_id})
        if not rooms:
            raise FeedNotFound()
        room_name = rooms[0].room_name
    today = now.astimezone(settings.tz).date()
    return Feed(
        user_id=owner.user_id,
        locale=owner.locale or fallback_locale,
        room_id=room_id,
        room_name=room_name,
        from_date=today - timedelta(days=settings.calendar_feed_days_back),
        window_moved_at=datetime.combine(today, time(0), tzinfo=settings.tz),
    )


def _reservation_ids(room: bool) -> Select[Any]:
    """The ids of the reservations (any status) a feed is built from, from its first date:
    a room's (`room`), else the user's own and those they attend."""
    window = Reservation.reserved_date >= bindparam("from_date")
    if room:
        return select(Reservation.reservation_id).where(
            Reservation.room_id == bindparam("room_id"), window
        )
    owned = select(Reservation.reservation_id).where(
        Reservation.user_id == bindparam("user_id"), window
    )
    attended = (
        select(ReservationAttendee.reservation_id)
        .join(Reservation, Reservation.reservation_id == ReservationAttendee.reservation_id)
        .where(ReservationAttendee.user_id == bindparam("user_id"), window)
    )
    return select(union(owned, attended).subquery().c[0])


def _params(feed: Feed) -> dict[str, Any]:
    params: dict[str, Any] = {"from_date": feed.from_date}
    if feed.room_id is not None:
        params["room_id"] = feed.room_id
    else:
        params["user_id"] = feed.user_id
    return params


# --- the validator ---


@dataclass(frozen=True)
class FeedValidator:
    etag: str  # a weak entity tag, quoted: W/"…"
    last_modified: datetime  # UTC, whole seconds (as HTTP dates carry it)


def _validator_statement(room: bool) -> Executable:
    ids = _reservation_ids(room).scalar_subquery()
    return (
        select(
            func.count(),
            func.coalesce(func.sum(Reservation.version), literal_column("0")),
            func.coalesce(func.sum(ReservationSeries.version), literal_column("0")),
            func.max(Reservation.created_at).label("created"),
            func.max(Reservation.updated_at).label("updated"),
            func.max(Reservation.cancelled_at).label("cancelled"),
            func.max(ReservationSeries.updated_at).label("series_updated"),
        )
        .select_from(Reservation)
        .outerjoin(ReservationSeries, ReservationSeries.series_id == Reservation.series_id)
        .where(Reservation.reservation_id.in_(ids))
    )


# Built once: `Database.read` compiles each statement object once and keeps it.
_VALIDATORS = {room: _validator_statement(room) for room in (False, True)}


async def feed_validator(db: Database, feed: Feed) -> FeedValidator:
    """The feed's ETag and Last-Modified from one aggregate query, without building it.

    It covers the reservations the feed is built from (any status, from the feed's first
    date): how many, the sum of their versions and of their series' versions, and the
    latest of their created / updated / cancelled times and their series' updated times.
    Every change to a meeting or a series raises a version and sets a time, and inviting
    or uninviting the user changes the set. The feed's first date and language are part
    of the ETag, and the start of today is a floor of Last-Modified: what the aggregate
    does not see (a renamed room or person, a change to an occurrence older than the
    window) reaches subscribers at the latest the next day. A weak ETag, for the same
    reason: equal tags mean the same meetings, not the same bytes.
    """
    row = (await db.read(_VALIDATORS[feed.room_id is not None], _params(feed)))[0]
    count, versions, series_versions, *times = row
    key = "|".join(
        str(part)
        for part in (
            _VALIDATOR_VERSION,
            feed.user_id,
            feed.room_id,
            feed.locale,
            feed.from_date.isoformat(),
            count,
            versions,
            series_versions,
            *(moment.isoformat() if moment is not None else "-" for moment in times),
        )
    )
    latest = max([feed.window_moved_at, *(moment for moment in times if moment is not None)])
    return FeedValidator(
        etag=f'W/"{hashlib.sha256(key.encode()).hexdigest()[:32]}"',
        last_modified=latest.astimezone(UTC).replace(microsecond=0),
    )


# --- the feed's text ---


def _subjects_statement(room: bool) -> Executable:
    return (
        select(Reservation.reservation_id, Reservation.series_id)
        .where(
            Reservation.reservation_id.in_(_reservation_ids(room).scalar_subquery()),
            statements.holds_slot(statements.reservation),
        )
        .order_by(Reservation.reservation_id)
    )


# Built once: `Database.read` compiles each statement object once and keeps it.
_SUBJECTS = {room: _subjects_statement(room) for room in (False, True)}


async def _subjects(db: Database, feed: Feed) -> tuple[list[int], list[int]]:
    """The active meetings of the feed: single reservations' ids and series' ids."""
    statement = _SUBJECTS[feed.room_id is not None]
    rows = await db.read(statement, _params(feed))
    singles = [row.reservation_id for row in rows if row.series_id is None]
    series = sorted({row.series_id for row in rows if row.series_id is not None})
    return singles, series


class FeedCache:
    """Feeds as built, by ETag: the most recently used kept, up to `max_bytes` of text.

    One per app (process). Building a feed is mostly the iCalendar library's work (about
    0.5 ms of CPU per event, docs/performance.md), and some subscribers fetch without
    validators; a feed whose validator is unchanged is the same feed as far as a 304
    would say, so it is served as built. Nothing here is needed for correctness: a miss,
    another process or a restart builds it again.
    """

    def __init__(self, max_bytes: int = 16 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self._texts: OrderedDict[str, str] = OrderedDict()
        self._size = 0

    def get(self, etag: str) -> str | None:
        text = self._texts.get(etag)
        if text is not None:
            self._texts.move_to_end(etag)
        return text

    def put(self, etag: str, text: str) -> None:
        # A feed that would push out a quarter of the cache is not kept.
        if len(text) > self.max_bytes // 4 or etag in self._texts:
            return
        self._texts[etag] = text
        self._size += len(text)
        while self._size > self.max_bytes:
            _, dropped = self._texts.popitem(last=False)
            self._size -= len(dropped)


async def feed_body(
    db: Database,
    feed: Feed,
    validator: FeedValidator,
    *,
    settings: Settings,
    cache: FeedCache,
) -> str:
    """The feed's text: as built before under the same validator, else built now."""
    text = cache.get(validator.etag)
    if text is None:
        # DTSTAMP is the feed's last change (RFC 5545 without METHOD), so equal
        # validators give the same text as far as the validator sees.
        text = await feed_text(db, feed, settings=settings, stamp=validator.last_modified)
        cache.put(validator.etag, text)
    return text


async def feed_text(db: Database, feed: Feed, *, settings: Settings, stamp: datetime) -> str:
    """The feed as iCalendar text. Private meetings of others read "Busy" (in the
    user's language): the reader is the token's user."""
    singles, series = await _subjects(db, feed)
    async with db.snapshot() as session:
        events = await reading.events_of(
            session,
            reservation_ids=singles,
            series_ids=series,
            tz=settings.tz,
            locale=feed.locale,
            viewer_id=feed.user_id,
        )
    return ical.feed(events, name=feed_name(feed), tz=settings.tz, stamp=stamp)


def feed_name(feed: Feed) -> str:
    """The calendar's name in the subscriber's list."""
    if feed.room_name is not None:
        return f"MRS: {feed.room_name}"
    return "MRS"
