"""Policy and quota refusals: each a 422 whose code names the rule and whose message
names the limit."""

from __future__ import annotations

from mrs.errors import InvalidInput


class PolicyMaxLength(InvalidInput):
    code = "policy_max_length"
    field = "end_time"
    message = "This room can be booked for at most {minutes} minutes."
    # Whole hours are said in hours (the message is chosen by `rules.max_length_refusal`).
    in_hours = "This room can be booked for at most {hours} hours."
    one_hour = "This room can be booked for at most 1 hour."


class PolicyTooFarAhead(InvalidInput):
    code = "policy_too_far_ahead"
    field = "date"
    message = "This room can be booked at most {days} days ahead (until {last_date})."


class PolicyMinNotice(InvalidInput):
    code = "policy_min_notice"
    field = "start_time"
    message = "This room must be booked at least {minutes} minutes before the start."


class PolicyNotAllowed(InvalidInput):
    code = "policy_not_allowed"
    message = "You are not allowed to book this room."


class QuotaFutureReservations(InvalidInput):
    code = "quota_future_reservations"
    message = "You can have at most {limit} reservations to come."


class QuotaHoursPerWeek(InvalidInput):
    code = "quota_hours_per_week"
    message = "You can book at most {limit} hours in the week of {week_start}."


class UnknownGroups(InvalidInput):
    code = "unknown_groups"
    field = "allowed_group_ids"
    message = "These groups do not exist: {group_ids}."
