"""Where alert notices go: the log (always), a webhook (JSON POST with retries), email.

Email goes through the mail outbox of mrs.notifications (its rows are written in the
evaluator's transaction, so a notice is sent exactly when its history entry commits).
Until that package exists the email channel is simply off.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from mrs.notifications.service import enqueue_mail
from mrs.settings import Settings

logger = logging.getLogger("mrs.alerts")


@dataclass(frozen=True)
class Notice:
    rule: str
    kind: str
    severity: str
    message: str
    value: float | None
    at: datetime

    def payload(self) -> dict[str, Any]:
        data = asdict(self)
        data["at"] = self.at.isoformat()
        data["service"] = "mrs"
        return data

    @property
    def subject(self) -> str:
        return f"[MRS {self.severity.upper()}] {self.kind}: {self.rule}"


def email_recipients(settings: Settings) -> list[str]:
    return [part.strip() for part in settings.alert_email_to.split(",") if part.strip()]


def channel_names(settings: Settings) -> list[str]:
    """The channels a notice goes to with these settings."""
    names = ["log"]
    if settings.alert_webhook_url:
        names.append("webhook")
    if email_recipients(settings):
        names.append("email")
    return names


async def enqueue_email(session: AsyncSession, settings: Settings, notice: Notice) -> None:
    """Add the notice to the mail outbox in the caller's transaction (if email is on)."""
    recipients = email_recipients(settings)
    if not recipients:
        return
    body = (
        f"{notice.message}\n\nRule: {notice.rule}\nSeverity: {notice.severity}\n"
        f"Event: {notice.kind}\nAt: {notice.at.isoformat(timespec='seconds')}\n"
    )
    await enqueue_mail(session, to=recipients, subject=notice.subject, body=body)


def log_notice(notice: Notice) -> None:
    level = logging.INFO if notice.kind == "RESOLVED" else logging.WARNING
    logger.log(
        level,
        "alert %s %s (%s): %s",
        notice.rule,
        notice.kind,
        notice.severity,
        notice.message,
        extra={"fields": {"alert": notice.payload()}},
    )


async def post_webhook(settings: Settings, notice: Notice) -> bool:
    """POST the notice as JSON; retry with backoff on errors and 5xx. True when delivered."""
    attempts = settings.alert_webhook_retries + 1
    async with httpx.AsyncClient(timeout=settings.alert_webhook_timeout_seconds) as client:
        for attempt in range(attempts):
            try:
                response = await client.post(settings.alert_webhook_url, json=notice.payload())
                if response.status_code < 300:
                    return True
                problem = f"HTTP {response.status_code}"
                if 400 <= response.status_code < 500 and response.status_code != 429:
                    break  # the receiver refuses this notice; retrying will not help
            except httpx.HTTPError as exc:
                problem = type(exc).__name__
            if attempt + 1 < attempts:
                await asyncio.sleep(min(0.25 * 2**attempt, 5.0))
    logger.error("alert webhook delivery failed for %s %s: %s", notice.rule, notice.kind, problem)
    return False


async def deliver(settings: Settings, notices: Sequence[Notice]) -> None:
    """Send notices to the log and the webhook (email was queued in the transaction)."""
    for notice in notices:
        log_notice(notice)
        if settings.alert_webhook_url:
            await post_webhook(settings, notice)
