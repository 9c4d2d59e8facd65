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


class EquipmentNotFound(NotFound):
    code = "equipment_not_found"
    message = "There is no equipment with the code {code}."


class EquipmentCodeTaken(Conflict):
    code = "equipment_code_taken"
    field = "code"
    message = "Equipment with the code {code} already exists."


class UnknownEquipment(InvalidInput):
    code = "unknown_equipment"
    message = "Unknown equipment: {codes}. Add it to the equipment list first."


class BookableHoursInvalid(InvalidInput):
    code = "invalid_bookable_hours"
    field = "opening"
    message = (
        "Bookable hours must start before they end, within 00:00 to 24:00, "
        "on {slot_minutes}-minute slot boundaries."
    )


class OutsideBookableHours(InvalidInput):
    code = "outside_bookable_hours"
    message = "Room {room_id} can be booked only between {start} and {end}."


class ClosureDayExists(Conflict):
    code = "closure_day_exists"
    field = "date"
    message = "{date} is already a closure day."


class ClosureDayNotFound(NotFound):
    code = "closure_day_not_found"
    message = "{date} is not a closure day."
