"""What the page modules share: redirects, confirmations after a redirect, dates."""

from __future__ import annotations

from datetime import date, datetime

from fastapi import Request
from starlette.responses import RedirectResponse

from mrs.http.types import parse_iso_date
from mrs.i18n import translate
from mrs.settings import Settings
from mrs.web.i18n import N_

# Confirmations shown after a redirect (?done=...); only these keys are honoured.
DONE_MESSAGES = {
    "reserved": N_("Your reservation is confirmed."),
    "reserved_pending": N_(
        "Your reservation is waiting for approval: the room's manager decides, and you "
        "are told by mail. Until then the time is held for you."
    ),
    "series_pending": N_(
        "The repeating meeting is reserved and waiting for approval: the room's manager "
        "decides, and you are told by mail."
    ),
    "cancelled": N_("The reservation was cancelled."),
    "changed": N_("The reservation was changed."),
    "checked_in": N_("You are checked in."),
    "series_created": N_("The repeating meeting is reserved on every date below."),
    "series_created_skipped": N_(
        "The repeating meeting is reserved; {count} date(s) that were taken were skipped."
    ),
    "series_changed": N_("The series was changed."),
    "series_cancelled": N_("The dates of the series were cancelled."),
    "logged_out": N_("You have logged out."),
    "room_created": N_("The room was created. Open it for the dates people may reserve it."),
    "room_created_auto": N_(
        "The room was created and its dates were opened by its opening rule; new ones open every day. You can also open or close dates by hand."
    ),
    "room_saved": N_("The room was saved."),
    "equipment_added": N_("The equipment was added to the list."),
    "equipment_saved": N_("The equipment was renamed."),
    "equipment_deleted": N_("The equipment was deleted from the list and from every room."),
    "closure_added": N_("The closure day was added. Every room is closed on that date."),
    "closure_deleted": N_(
        "The closure day was removed. Rooms stay closed on that date until opened by hand."
    ),
    "opened": N_("The room is now open on {count} more date(s)."),
    "closed": N_("The room is now closed on {count} date(s)."),
    "password_changed": N_(
        "Your password was changed. You stay logged in here; your other sessions have ended."
    ),
    "mail_saved": N_("Your mail preferences were saved."),
    "delegate_added": N_("The delegate was added: they may now book for you."),
    "delegate_removed": N_("The delegate was removed: they may no longer book for you."),
    "session_ended": N_("The session was ended."),
    "sessions_ended": N_("{count} other session(s) ended."),
    "approved": N_(
        "The registration was approved. A mail to the user is queued and goes out when the mail server takes it."
    ),
    "rejected": N_(
        "The registration was rejected. A mail to the user is queued and goes out when the mail server takes it."
    ),
    "disabled": N_("The user was disabled and logged out everywhere."),
    "enabled": N_("The user was enabled and can log in again."),
    "user_sessions_ended": N_("{count} session(s) of the user ended."),
    "password_reset_sent": N_("The password reset mail is on its way to the user."),
    "feed_revoked": N_(
        "The subscription link was turned off. Calendars subscribed with it no longer update."
    ),
    "role_changed": N_("The role of the user was changed."),
    "group_added": N_("The group was added. Tick its members below."),
    "group_saved": N_("The group was saved."),
    "group_deleted": N_("The group was deleted; its members' accounts stay."),
    "members_saved": N_("The members were saved."),
}


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def safe_next(target: str | None, default: str = "/rooms") -> str:
    """Only same-site paths: never an open redirect to another host."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def done_message(request: Request, locale: str) -> str | None:
    key = request.query_params.get("done", "")
    msgid = DONE_MESSAGES.get(key)
    if msgid is None:
        return None
    count = request.query_params.get("n", "0")
    return translate(locale, msgid, count=int(count) if count.isdigit() and len(count) < 5 else 0)


def site_now(now: datetime, settings: Settings) -> datetime:
    return now.astimezone(settings.tz)


def query_day(request: Request, today: date, locale: str) -> tuple[date, str | None]:
    """The ?date= of the request (today when absent) and a message when it is not a date."""
    raw = request.query_params.get("date")
    if not raw:
        return today, None
    try:
        day = parse_iso_date(raw)
    except ValueError as exc:
        return today, translate(locale, str(exc))
    if not date.min < day < date.max:  # the pages link to the day before and after
        return today, translate(locale, "This date is out of range.")
    return day, None
