"""A user's calendar feed token: made (shown once), replaced, revoked; and what the
user may subscribe to.

A token is random (`secrets`, 32 bytes, URL-safe) and only its SHA-256 is stored, one row
per user (`calendar_feed`): making one again replaces the row (the old URLs stop
working), deleting the row revokes it.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, select

from mrs.audit import service as audit
from mrs.calendars.models import CalendarFeed
from mrs.db.engine import Database
from mrs.rooms.models import MeetingRoom

TOKEN_BYTES = 32
# What `secrets.token_urlsafe(TOKEN_BYTES)` gives: 43 characters of the URL-safe alphabet.
# Anything else cannot be a token and is refused before the database is asked.
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{43}$")


def new_token() -> str:
    """A fresh feed token (shown once; only `token_hash` of it is kept)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    """What is stored for a token: its SHA-256, hex."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def is_token_shaped(token: str) -> bool:
    """Whether `token` could be one we made (the edge refuses anything else with 404)."""
    return _TOKEN_SHAPE.fullmatch(token) is not None


def subscribe_base(public_url: str, request_base_url: str) -> str:
    """Where subscribers reach the site: `MRS_PUBLIC_URL` when set (behind a proxy the
    request's own address is the inside one, which a calendar service cannot reach),
    else the address the request came to."""
    return public_url or request_base_url


def feed_url(base_url: str, token: str, room_id: int | None = None) -> str:
    """The URL of the user's feed, or of a room's feed, opened by `token` (`base_url`:
    the site's, as the request came to it)."""
    base = base_url.rstrip("/")
    if room_id is None:
        return f"{base}/calendar/{token}.ics"
    return f"{base}/calendar/{token}/rooms/{room_id}.ics"


@dataclass(frozen=True)
class FeedRoom:
    room_id: int
    room_name: str


@dataclass(frozen=True)
class FeedStatus:
    """Whether the user has a feed (since when), and the rooms that publish one."""

    created_at: datetime | None
    rooms: list[FeedRoom]

    @property
    def exists(self) -> bool:
        return self.created_at is not None


async def create_token(db: Database, *, user_id: str, now: datetime) -> str:
    """Make the user's feed token, replacing any earlier one; the token (shown once).
    The audit row says whether one was replaced, never the token or its hash."""
    token = new_token()
    async with db.transaction() as session:
        replaced = await session.execute(
            delete(CalendarFeed)
            .where(CalendarFeed.user_id == user_id)
            .returning(CalendarFeed.user_id)
        )
        had_one = replaced.first() is not None
        await session.execute(
            insert(CalendarFeed).values(
                user_id=user_id, token_hash=token_hash(token), created_at=now
            )
        )
        await audit.record(
            session,
            action="calendar_feed.regenerate" if had_one else "calendar_feed.create",
            subject_type="user",
            subject_id=user_id,
            after={"created_at": now.isoformat()},
            actor_id=user_id,
            at=now,
        )
    return token


async def revoke_token(db: Database, *, user_id: str) -> bool:
    """Delete the user's feed token; whether there was one."""
    async with db.transaction() as session:
        result = await session.execute(
            delete(CalendarFeed)
            .where(CalendarFeed.user_id == user_id)
            .returning(CalendarFeed.created_at)
        )
        revoked = result.first()
        if revoked is not None:
            await audit.record(
                session,
                action="calendar_feed.revoke",
                subject_type="user",
                subject_id=user_id,
                before={"created_at": revoked.created_at.isoformat()},
                actor_id=user_id,
            )
        return revoked is not None


async def feed_status(db: Database, *, user_id: str) -> FeedStatus:
    """The user's feed (whether it exists) and the rooms whose feed it opens."""
    async with db.snapshot() as session:
        created_at = await session.scalar(
            select(CalendarFeed.created_at).where(CalendarFeed.user_id == user_id)
        )
        rooms = (
            await session.execute(
                select(MeetingRoom.room_id, MeetingRoom.room_name)
                .where(MeetingRoom.has_feed.is_(True))
                .order_by(MeetingRoom.room_name)
            )
        ).all()
    return FeedStatus(
        created_at=created_at, rooms=[FeedRoom(row.room_id, row.room_name) for row in rooms]
    )
