"""A real local SMTP server for tests that check the mail MRS sends, and the jobs that
make and send it."""

from __future__ import annotations

import email
import email.policy
from typing import Any

from mrs.calendars.invitations import JOB_NAME as INVITATION_JOB
from mrs.clock import system_clock
from mrs.notifications import service as notifications_service
from tests.support import free_port


class SmtpReceiver:
    """A real local SMTP server (aiosmtpd) keeping the messages it accepts."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.port = free_port()
        self.messages: list[Any] = []
        receiver = self

        class Handler:
            async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
                raw = envelope.content if isinstance(envelope.content, bytes) else b""
                receiver.messages.append(email.message_from_bytes(raw, policy=email.policy.default))
                return "250 Message accepted for delivery"

        self._controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def subjects(self) -> list[str]:
        return [str(message["Subject"]) for message in self.messages]


async def run_invitation_job(app: Any) -> None:
    """One round of the invitation mail job through the app's runner (its errors raise)."""
    await app.state.background.function(INVITATION_JOB)()


async def deliver_outbox(app: Any) -> list[Any]:
    """Send what the outbox holds through a real local SMTP server; what it received."""
    receiver = SmtpReceiver()
    receiver._controller.start()
    try:
        settings = app.state.db.settings.model_copy(
            update={"smtp_host": "127.0.0.1", "smtp_port": receiver.port}
        )
        await notifications_service.deliver_due(app.state.db, settings, now=system_clock())
    finally:
        receiver._controller.stop()
    return receiver.messages


def parts(message: Any) -> dict[str, Any]:
    """A received message's parts by content type (text/plain, text/html, text/calendar)."""
    return {
        part.get_content_type(): part
        for part in message.walk()
        if not part.is_multipart() and part.get_content_disposition() != "attachment"
    }
