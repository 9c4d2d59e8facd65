"""The texts of reservation notification mails, in the recipient's language."""

from __future__ import annotations

from datetime import date

from mrs.accounts.notices import Notice
from mrs.i18n import DEFAULT_LOCALE, SUPPORTED_LOCALES, display_name, format_day, translate
from mrs.wallclock import format_minute


def _params(
    loc: str,
    first_name: str,
    last_name: str,
    room_name: str,
    day: date,
    start_minute: int,
    end_minute: int,
) -> dict[str, str]:
    """The reservation as the mail names it, in the recipient's language."""
    return {
        "name": display_name(loc, first_name, last_name),
        "room": room_name,
        "date": format_day(loc, day),
        "start": format_minute(start_minute),
        "end": format_minute(end_minute),
    }


def _signed(loc: str, body: str, reason: str | None) -> str:
    """The body with the administrator's reason, if any, and the signature."""
    if reason:
        body += "\n\n" + translate(loc, "Reason given: {reason}", reason=reason)
    return body + "\n\n— MRS"


def cancelled_by_admin(
    locale: str | None,
    *,
    first_name: str,
    last_name: str,
    room_name: str,
    day: date,
    start_minute: int,
    end_minute: int,
    reason: str | None,
) -> Notice:
    """Tell the owner that an administrator cancelled their reservation, and why."""
    loc = locale if locale in SUPPORTED_LOCALES else DEFAULT_LOCALE
    params = _params(loc, first_name, last_name, room_name, day, start_minute, end_minute)
    subject = translate(loc, "Your reservation of {room} was cancelled", **params)
    body = translate(
        loc,
        "Hello {name},\n\nAn administrator cancelled your reservation of {room} on {date}, "
        "{start}–{end}.",
        **params,
    )
    return Notice(subject, _signed(loc, body, reason))


def changed_by_admin(
    locale: str | None,
    *,
    first_name: str,
    last_name: str,
    room_name: str,
    day: date,
    start_minute: int,
    end_minute: int,
    reason: str | None,
) -> Notice:
    """Tell the owner that an administrator changed their reservation, what it is now, and why."""
    loc = locale if locale in SUPPORTED_LOCALES else DEFAULT_LOCALE
    params = _params(loc, first_name, last_name, room_name, day, start_minute, end_minute)
    subject = translate(loc, "Your reservation of {room} was changed", **params)
    body = translate(
        loc,
        "Hello {name},\n\nAn administrator changed your reservation. It is now: {room} on "
        "{date}, {start}–{end}.",
        **params,
    )
    return Notice(subject, _signed(loc, body, reason))


def series_cancelled_by_admin(
    locale: str | None,
    *,
    first_name: str,
    last_name: str,
    room_name: str,
    day: date,
    start_minute: int,
    end_minute: int,
    count: int,
    reason: str | None,
) -> Notice:
    """Tell the owner that an administrator cancelled their series (`count` occurrences
    from `day` on), and why."""
    loc = locale if locale in SUPPORTED_LOCALES else DEFAULT_LOCALE
    params = _params(loc, first_name, last_name, room_name, day, start_minute, end_minute)
    subject = translate(loc, "Your recurring reservation of {room} was cancelled", **params)
    body = translate(
        loc,
        "Hello {name},\n\nAn administrator cancelled {count} occurrence(s) of your recurring "
        "reservation of {room}, {start}–{end}, from {date} on.",
        count=count,
        **params,
    )
    return Notice(subject, _signed(loc, body, reason))
