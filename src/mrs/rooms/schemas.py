"""Room request and response models."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, field_validator

from mrs.http.types import ClockTime, HourMinute, IsoDate

if TYPE_CHECKING:
    from mrs.rooms.rules import OpeningRule
    from mrs.rooms.service import RoomView

# An equipment code: lowercase ASCII letters, digits and hyphens ("video-conference").
EquipmentCode = Annotated[str, Field(pattern=r"^[a-z0-9-]{1,40}$")]
MAX_ROOM_EQUIPMENT = 100


def _iso_weekday_list(value: list[int] | None) -> list[int] | None:
    if value is not None and any(day < 1 or day > 7 for day in value):
        raise ValueError("Weekdays are numbered 1 (Monday) to 7 (Sunday).")
    return value


# How many people a room seats (or a search asks for): a positive count, bounded.
Seats = Annotated[int, Field(ge=1, le=10000)]


class OpeningRuleWrite(BaseModel):
    """A room's opening rule; fields left out keep their value (or the site's default
    for a new room)."""

    model_config = ConfigDict(extra="forbid")

    weekdays: Annotated[
        list[int] | None,
        WithJsonSchema({"type": "array", "items": {"type": "integer"}, "minItems": 1}),
    ] = Field(default=None, min_length=1, max_length=7)
    start_time: Annotated[
        HourMinute | None, WithJsonSchema({"type": "string", "example": "08:00"})
    ] = None
    end_time: Annotated[
        HourMinute | None, WithJsonSchema({"type": "string", "example": "20:00"})
    ] = None
    auto_open: Annotated[bool | None, WithJsonSchema({"type": "boolean"})] = None
    closed_on_holidays: Annotated[bool | None, WithJsonSchema({"type": "boolean"})] = None

    @field_validator("weekdays")
    @classmethod
    def _iso_weekdays(cls, value: list[int] | None) -> list[int] | None:
        return _iso_weekday_list(value)

    @field_validator("weekdays", "start_time", "end_time", "auto_open", "closed_on_holidays")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("This field cannot be empty.")
        return value

    def changes(self) -> dict[str, object]:
        """The fields given, named as the rule's (for `rooms.service`)."""
        given = self.model_dump(exclude_unset=True)
        renamed = {"start_time": "open_minute", "end_time": "close_minute"}
        changes = {renamed.get(key, key): value for key, value in given.items()}
        if "weekdays" in changes:
            changes["weekdays"] = frozenset(changes["weekdays"])
        return changes


class OpeningRuleRead(BaseModel):
    weekdays: list[int]
    start_time: ClockTime
    end_time: ClockTime
    auto_open: bool
    closed_on_holidays: bool

    @classmethod
    def of(cls, rule: OpeningRule) -> OpeningRuleRead:
        return cls(
            weekdays=sorted(rule.weekdays),
            start_time=rule.open_minute,
            end_time=rule.close_minute,
            auto_open=rule.auto_open,
            closed_on_holidays=rule.closed_on_holidays,
        )


class RoomCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    room_name: str = Field(min_length=1, max_length=100)
    capacity: Seats | None = None
    location: str | None = Field(default=None, max_length=200)
    description: str = Field(default="", max_length=2000)
    equipment: list[EquipmentCode] = Field(default_factory=list, max_length=MAX_ROOM_EQUIPMENT)
    # Left out: the site's rule for new rooms (MRS_ROOM_DEFAULT_*, opened automatically).
    opening: OpeningRuleWrite | None = None
    has_feed: bool = Field(default=False, description="Publish a calendar feed for this room.")


class RoomUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    # May be left out, but not null (see _not_null): the spec says so too.
    room_name: Annotated[
        str | None, WithJsonSchema({"type": "string", "minLength": 1, "maxLength": 100})
    ] = Field(default=None, min_length=1, max_length=100)
    capacity: Seats | None = None
    location: str | None = Field(default=None, max_length=200)
    active: Annotated[bool | None, WithJsonSchema({"type": "boolean"})] = None
    description: Annotated[str | None, WithJsonSchema({"type": "string", "maxLength": 2000})] = (
        Field(default=None, max_length=2000)
    )
    equipment: Annotated[
        list[EquipmentCode] | None, WithJsonSchema({"type": "array", "items": {"type": "string"}})
    ] = Field(default=None, max_length=MAX_ROOM_EQUIPMENT)
    opening: OpeningRuleWrite | None = None
    has_feed: Annotated[
        bool | None,
        WithJsonSchema(
            {"type": "boolean", "description": "Publish a calendar feed for this room."}
        ),
    ] = None

    @field_validator("room_name", "active", "description", "equipment", "opening", "has_feed")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("This field cannot be empty.")
        return value


class RoomRead(BaseModel):
    room_id: int
    room_name: str
    capacity: int | None
    location: str | None
    active: bool
    description: str
    equipment: list[str]
    opening: OpeningRuleRead
    has_feed: bool

    @classmethod
    def of(cls, room: RoomView) -> RoomRead:
        return cls(
            room_id=room.room_id,
            room_name=room.room_name,
            capacity=room.capacity,
            location=room.location,
            active=room.active,
            description=room.description,
            equipment=room.equipment,
            opening=OpeningRuleRead.of(room.opening),
            has_feed=room.has_feed,
        )


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
        return _iso_weekday_list(value)


class RoomOpeningResult(BaseModel):
    room_id: int
    dates_changed: int
    dates: list[date]


class EquipmentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: EquipmentCode
    name_en: str = Field(min_length=1, max_length=100)
    name_ja: str = Field(min_length=1, max_length=100)


class EquipmentUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name_en: Annotated[
        str | None, WithJsonSchema({"type": "string", "minLength": 1, "maxLength": 100})
    ] = Field(default=None, min_length=1, max_length=100)
    name_ja: Annotated[
        str | None, WithJsonSchema({"type": "string", "minLength": 1, "maxLength": 100})
    ] = Field(default=None, min_length=1, max_length=100)

    @field_validator("name_en", "name_ja")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("This field cannot be empty.")
        return value


class EquipmentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str = Field(validation_alias="equipment_code")
    name_en: str
    name_ja: str


class ClosureDayCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    date: IsoDate
    label: str = Field(min_length=1, max_length=100)


class ClosureDayRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    date: IsoDate = Field(validation_alias="closure_date")
    label: str
    created_by: str | None
    created_at: datetime
