"""A real local SMTP server for tests that check the mail MRS sends."""

from __future__ import annotations

import email
import email.policy
from typing import Any

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
