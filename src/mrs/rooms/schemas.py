"""Room request and response models."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, field_validator

from mrs.http.types import IsoDate


class RoomCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    room_name: str = Field(min_length=1, max_length=100)
    capacity: int | None = Field(default=None, ge=1, le=10000)
    location: str | None = Field(default=None, max_length=200)


class RoomUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    # May be left out, but not null (see _not_null): the spec says so too.
    room_name: Annotated[
        str | None, WithJsonSchema({"type": "string", "minLength": 1, "maxLength": 100})
    ] = Field(default=None, min_length=1, max_length=100)
    capacity: int | None = Field(default=None, ge=1, le=10000)
    location: str | None = Field(default=None, max_length=200)
    active: Annotated[bool | None, WithJsonSchema({"type": "boolean"})] = None

    @field_validator("room_name", "active")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("This field cannot be empty.")
        return value


class RoomRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    room_id: int
    room_name: str
    capacity: int | None
    location: str | None
    active: bool


class RoomOfDayRead(BaseModel):
    """A room reservable on a day, with how much of it is taken."""

    room_id: int
    room_name: str
    capacity: int | None
    location: str | None
    reserved_minutes: int
    reservation_count: int


class RoomOpening(BaseModel):
    """A date range (inclusive) and optionally the ISO weekdays (1 = Monday) it applies to."""

    model_config = ConfigDict(extra="forbid")

    from_date: IsoDate
    to_date: IsoDate
    weekdays: list[int] | None = Field(default=None, max_length=7)

    @field_validator("weekdays")
    @classmethod
    def _iso_weekdays(cls, value: list[int] | None) -> list[int] | None:
        if value is not None and any(day < 1 or day > 7 for day in value):
            raise ValueError("Weekdays are numbered 1 (Monday) to 7 (Sunday).")
        return value


class RoomOpeningResult(BaseModel):
    room_id: int
    dates_changed: int
    dates: list[date]
