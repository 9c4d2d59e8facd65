"""Sending one batch of messages over SMTP (aiosmtplib), as the settings describe."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

import aiosmtplib

from mrs.settings import Settings


@dataclass(frozen=True)
class Mail:
    """A message ready to go: one recipient."""

    mail_id: int | None
    recipient: str
    subject: str
    body: str
    html_body: str | None = None
    # An iCalendar object and its METHOD (REQUEST, CANCEL): calendars read this part.
    calendar: str | None = None
    calendar_method: str | None = None


class MailError(Exception):
    """Sending failed."""


class PermanentMailError(MailError):
    """The server refused the message for good (5xx): retrying cannot help."""


class TemporaryMailError(MailError):
    """The server could not be reached or deferred the message: retry later."""


class UnclearMailError(TemporaryMailError):
    """DATA was sent but no final answer came (timeout, connection lost): the server may
    have the message. Retried later with the same Message-ID, a limited number of times."""


class _Client(aiosmtplib.SMTP):
    """aiosmtplib's client, noting when the DATA command of a message has gone out."""

    data_started = False

    async def data(self, *args: Any, **kwargs: Any) -> aiosmtplib.SMTPResponse:
        self.data_started = True
        return await super().data(*args, **kwargs)


def smtp_configured(settings: Settings) -> bool:
    return bool(settings.smtp_host)


def build_message(settings: Settings, mail: Mail, *, now: datetime) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = mail.recipient
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(now)
    domain = settings.smtp_from.rpartition("@")[2] or "localhost"
    if mail.mail_id is not None:
        # Stable per outbox row, so a message delivered twice after a crash is recognisable.
        message["Message-ID"] = f"<mrs-outbox-{mail.mail_id}@{domain}>"
    message.set_content(mail.body)
    if mail.html_body is not None:
        message.add_alternative(mail.html_body, subtype="html")
    if mail.calendar is not None:
        # An invitation: the calendar part is one more alternative (Outlook and Gmail show
        # it as the event), and the same object again as an .ics attachment for the rest.
        method = (mail.calendar_method or "REQUEST").upper()
        message.add_alternative(mail.calendar, subtype="calendar", params={"method": method})
        message.add_attachment(
            mail.calendar.encode("utf-8"),
            maintype="application",
            subtype="ics",
            filename="invite.ics",
        )
    return message


class SmtpConnection:
    """One SMTP session for a batch of messages (`async with SmtpConnection(settings)`)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._client = _Client(
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_user or None,
            password=settings.smtp_password or None,
            timeout=settings.smtp_timeout_seconds,
            use_tls=settings.smtp_ssl,
            # False, not None: never upgrade silently unless asked to; True requires it.
            start_tls=bool(settings.smtp_starttls),
        )

    async def __aenter__(self) -> SmtpConnection:
        try:
            await self._client.connect()
        except (TimeoutError, aiosmtplib.SMTPException, OSError) as exc:
            raise TemporaryMailError(f"cannot connect to {self._describe()}: {exc}") from exc
        return self

    async def __aexit__(self, *_exc: object) -> None:
        try:
            await self._client.quit()
        except (TimeoutError, aiosmtplib.SMTPException, OSError):
            self._client.close()

    def _describe(self) -> str:
        return f"SMTP server {self._settings.smtp_host}:{self._settings.smtp_port}"

    async def send(self, mail: Mail, *, now: datetime) -> None:
        """Send one message; raise PermanentMailError or TemporaryMailError on failure."""
        try:
            message = build_message(self._settings, mail, now=now)
        except (ValueError, IndexError, TypeError) as exc:
            # The stdlib cannot even build it (e.g. a malformed address): retrying won't help.
            raise PermanentMailError(f"cannot build the message: {exc!r}") from exc
        self._client.data_started = False
        try:
            await self._client.send_message(message)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [refused.code for refused in exc.recipients]
            if codes and all(code >= 500 for code in codes):
                raise PermanentMailError(f"recipient refused: {exc}") from exc
            raise TemporaryMailError(f"recipient deferred: {exc}") from exc
        except aiosmtplib.SMTPResponseException as exc:
            error = f"{exc.code} {exc.message}"
            if 500 <= exc.code < 600:
                raise PermanentMailError(error) from exc
            raise TemporaryMailError(error) from exc
        except (TimeoutError, aiosmtplib.SMTPException, OSError) as exc:
            error = str(exc) or type(exc).__name__
            if self._client.data_started:
                raise UnclearMailError(f"no final answer after DATA: {error}") from exc
            raise TemporaryMailError(error) from exc


async def send_now(settings: Settings, mail: Mail, *, now: datetime) -> None:
    """Send one message directly, bypassing the outbox (`mrs mail test`)."""
    async with SmtpConnection(settings) as connection:
        await connection.send(mail, now=now)
