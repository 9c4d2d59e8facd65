"""Reservation domain errors."""

from __future__ import annotations

from mrs.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound


class InvalidTimeRange(InvalidInput):
    code = "invalid_time_range"
    field = "end_time"
    message = "The end time must be after the start time."


class OutsideDay(InvalidInput):
    code = "outside_day"
    field = "end_time"
    message = "Times must lie within the day, between 00:00 and 24:00."


class SlotMisaligned(InvalidInput):
    code = "slot_misaligned"
    field = "end_time"
    message = "Times must fall on {slot_minutes}-minute slot boundaries (for example 10:00 or 10:{slot_minutes:02d})."


class TimeDoesNotExist(InvalidInput):
    code = "time_does_not_exist"
    message = (
        "{time} does not exist on {date}: the clocks are put forward at that hour. "
        "Choose another time."
    )


class StartInPast(InvalidInput):
    code = "start_in_past"
    field = "start_time"
    message = "The reservation would start in the past."


class RoomNotReservable(NotFound):
    code = "room_not_reservable"
    message = "Room {room_id} cannot be reserved on {date}."


class RoomOutOfUse(Conflict):
    code = "room_out_of_use"
    message = "Room {room_id} is out of use and cannot be reserved."


class RoomHasReservations(Conflict):
    code = "room_has_reservations"
    message = "The room cannot be closed: {count} active reservation(s) fall on those dates. Cancel them first."


class ReservationConflict(Conflict):
    code = "reservation_conflict"
    message = "The room is already reserved from {start} to {end} on that day."


class ReservationNotFound(NotFound):
    code = "reservation_not_found"
    message = "Reservation {reservation_id} does not exist."


class CancelNotAllowed(Forbidden):
    code = "cancel_not_allowed"
    message = "Only the person who made a reservation or an administrator can cancel it."


class ReservationAlreadyEnded(Forbidden):
    code = "reservation_ended"
    message = "This reservation has already ended and can no longer be cancelled."


class AlreadyCancelled(Conflict):
    code = "already_cancelled"
    message = "This reservation has already been cancelled."


class IdempotencyKeyReused(InvalidInput):
    code = "idempotency_key_reused"
    message = (
        "This Idempotency-Key was already used with a different request. "
        "Use a new key for a new request."
    )


class IdempotencyKeyInProgress(Conflict):
    code = "idempotency_key_in_progress"
    message = "A request with this Idempotency-Key is still being processed. Try again in a moment."


class EditNotAllowed(Forbidden):
    code = "edit_not_allowed"
    message = "Only the person who made a reservation or an administrator can change it."


class ReservationOver(Conflict):
    code = "reservation_ended"
    message = "This reservation has already ended and can no longer be changed."


class CancelledUnchangeable(Conflict):
    code = "already_cancelled"
    message = "This reservation has been cancelled and can no longer be changed."


class StaleVersion(DomainError):
    code = "precondition_failed"
    status = 412
    message = (
        "This reservation was changed by someone else (it is now at version {version}). "
        "Reload it and make your change again."
    )


class UnknownAttendees(InvalidInput):
    code = "unknown_attendees"
    message = "These attendees are not active users of this site: {user_ids}."


class InvalidDateRange(InvalidInput):
    code = "invalid_date_range"
    message = "The last date must not be before the first date."


class DateRangeTooLong(InvalidInput):
    code = "date_range_too_long"
    message = "Ask for at most {max_days} days at once."


class TooManyEquipmentCodes(InvalidInput):
    code = "too_many_equipment_codes"
    message = "Ask for at most {max_codes} kinds of equipment at once."


class UnknownEquipmentCode(InvalidInput):
    code = "unknown_equipment"
    message = "No equipment is called {codes}. Choose from the equipment list."


class InvalidRule(InvalidInput):
    code = "invalid_rule"
    field = "rule"
    message = (
        "The repeat rule is not understood ({part}). Use FREQ=DAILY, WEEKLY or MONTHLY with "
        "INTERVAL, BYDAY, BYMONTHDAY, and UNTIL or COUNT."
    )


class RuleWithoutEnd(InvalidInput):
    code = "rule_without_end"
    field = "rule"
    message = "Say until when the series repeats (UNTIL) or how many times (COUNT)."


class SeriesTooLong(InvalidInput):
    code = "series_too_long"
    field = "rule"
    message = (
        "The series would go on past {last_date}: a series may run at most {days} days "
        "from its first date."
    )


class TooManyOccurrences(InvalidInput):
    code = "too_many_occurrences"
    field = "rule"
    message = "The series would have more than {limit} occurrences."


class NoOccurrences(InvalidInput):
    code = "no_occurrences"
    field = "rule"
    message = "The repeat rule gives no date on or after the first date."


class SeriesConflict(Conflict):
    """Some dates of a series cannot be booked; `details.dates` names every one with its
    reason (the code a single booking would get) and the reservation in the way."""

    code = "series_conflict"
    message = (
        "The series cannot be booked on {count} date(s): {dates}. Choose another time, "
        "or skip those dates."
    )


class SeriesNotFound(NotFound):
    code = "series_not_found"
    message = "Series {series_id} does not exist."


class SeriesStaleVersion(DomainError):
    code = "precondition_failed"
    status = 412
    message = (
        "This series was changed by someone else (it is now at version {version}). "
        "Reload it and make your change again."
    )


class SeriesCancelled(Conflict):
    code = "series_cancelled"
    message = "This series has been cancelled and can no longer be changed."


class FromDateRequired(InvalidInput):
    code = "from_date_required"
    field = "from_date"
    message = "Say from which date the change applies (from_date)."


class CheckinNotRequired(InvalidInput):
    code = "checkin_not_required"
    message = "This room does not ask for check-in."


class CheckinTooEarly(InvalidInput):
    code = "checkin_too_early"
    message = "Check-in opens at {opens} ({minutes} minutes before the start)."


class CheckinNotAllowed(Forbidden):
    code = "checkin_not_allowed"
    message = (
        "Only the person who booked, an attendee, their delegate or an administrator can check in."
    )


class CheckinReleased(Conflict):
    code = "checkin_released"
    message = (
        "Nobody checked in by {deadline}: the reservation was released and the room is free "
        "for others."
    )


class CheckinNotActive(Conflict):
    code = "checkin_not_active"
    message = "Only an active reservation can be checked in to (this one is {status})."


class ReleasedUnchangeable(Conflict):
    code = "reservation_released"
    message = (
        "This reservation was released because nobody checked in, and can no longer be "
        "changed or cancelled. Book the room again if it is still free."
    )


# --- delegates (代理予約) ---


class NotADelegate(Forbidden):
    code = "not_a_delegate"
    message = "You cannot book or act for {user_id}: they have not named you as a delegate."


class InvalidDelegates(InvalidInput):
    code = "invalid_delegates"
    field = "user_ids"
    message = "These users cannot be your delegates: {user_ids}."


class TooManyDelegates(InvalidInput):
    code = "too_many_delegates"
    field = "user_ids"
    message = "At most {max_delegates} delegates can be named."


class UnknownPrincipal(InvalidInput):
    code = "unknown_principal"
    field = "on_behalf_of"
    message = "There is no active user {user_id} to book for."


class PersonNotFound(InvalidInput):
    code = "person_not_found"
    field = "person"
    message = "No active user has the id or name {person}."


class PersonAmbiguous(InvalidInput):
    code = "person_ambiguous"
    field = "person"
    message = "Several users match {person}: give their user id ({user_ids})."


# --- approval rooms ---


class NotAnApprover(Forbidden):
    code = "not_an_approver"
    message = "Only an administrator or a manager of the room can decide on bookings waiting for approval."


class NotPending(Conflict):
    code = "reservation_not_pending"
    message = "Reservation {reservation_id} is no longer waiting for approval: it has been decided, changed or cancelled."


class DecisionReasonRequired(InvalidInput):
    code = "reason_required"
    field = "reason"
    message = "Give a reason for the rejection: the owner is told it."


class UnknownManagers(InvalidInput):
    code = "unknown_managers"
    field = "user_ids"
    message = "These users do not exist: {user_ids}."
