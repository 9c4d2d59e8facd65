"""The outbox worker: a job on the app's background runner (every process runs it)."""

from __future__ import annotations

import logging

from mrs.background import Job, JobContext
from mrs.clock import Clock
from mrs.db.engine import Database
from mrs.notifications import service
from mrs.notifications.sender import smtp_configured
from mrs.settings import Settings

logger = logging.getLogger(__name__)

JOB_NAME = "mail-outbox"


class OutboxWorker:
    """One round: deliver what is due; without SMTP, say once how much is waiting."""

    def __init__(self, db: Database, settings: Settings, clock: Clock) -> None:
        self._db = db
        self._settings = settings
        self._clock = clock
        self._last_waiting: int | None = None

    async def __call__(self) -> None:
        if not smtp_configured(self._settings):
            summary = await service.outbox_summary(self._db)
            waiting = summary["pending"] + summary["sending"]
            if waiting and waiting != self._last_waiting:
                logger.warning(
                    "%s mail(s) wait in the outbox: no SMTP server is configured (MRS_SMTP_HOST)",
                    waiting,
                )
            self._last_waiting = waiting
            return
        report = await service.deliver_due(self._db, self._settings, now=self._clock())
        if report.claimed:
            logger.info("outbox: %s sent, %s failed", report.sent, report.failed)


def jobs(context: JobContext) -> list[Job]:
    """The outbox job: deliver what is due."""
    # Real time, like the queue times enqueue_mail writes (not the app's domain clock).
    worker = OutboxWorker(context.db, context.settings, context.auth_clock)
    # No leader lock: every process may send; row claims keep them from sending twice.
    return [
        Job(
            JOB_NAME,
            worker,
            interval_seconds=context.settings.mail_outbox_interval_seconds,
            leader_lock=None,
        )
    ]
