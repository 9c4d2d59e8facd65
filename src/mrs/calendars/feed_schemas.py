"""Calendar feed request and response models."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class FeedRoomRead(BaseModel):
    room_id: int
    room_name: str


class CalendarFeedRead(BaseModel):
    """Whether the caller has a feed (the URL is only shown when it is made)."""

    exists: bool
    created_at: datetime | None
    rooms: list[FeedRoomRead] = Field(description="The rooms that publish a feed.")


class RoomFeedUrl(BaseModel):
    room_id: int
    room_name: str
    url: str


class CalendarFeedCreated(BaseModel):
    """A new feed token's URLs: shown this once, never again (only a hash is kept)."""

    url: str = Field(description="The caller's own feed: meetings they own or attend.")
    room_urls: list[RoomFeedUrl]
    created_at: datetime
