"""Room domain errors."""

from __future__ import annotations

from mrs.errors import Conflict, InvalidInput, NotFound


class RoomNotFound(NotFound):
    code = "room_not_found"
    message = "Room {room_id} does not exist."


class RoomNameTaken(Conflict):
    code = "room_name_taken"
    field = "room_name"
    message = "A room named {room_name} already exists."


class DateRangeInvalid(InvalidInput):
    code = "invalid_date_range"
    message = "The date range must run forwards and cover at most {max_days} days."
