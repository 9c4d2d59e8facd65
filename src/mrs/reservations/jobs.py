"""Reservation housekeeping on the app's background runner."""

from __future__ import annotations

from mrs.background import Job, JobContext
from mrs.reservations import approvals, service

JOB_NAME = "idempotency-keys"
APPROVAL_REMINDER_JOB = "approval-reminders"


def jobs(context: JobContext) -> list[Job]:
    """Prune expired Idempotency-Keys once an hour (a plain DELETE: any process may run it);
    remind room managers of bookings waiting too long for approval every five minutes (one
    process, the leader: each booking is reminded once per period)."""
    db, settings, clock = context.db, context.settings, context.clock

    async def prune() -> None:
        await service.prune_idempotency_keys(db, settings=settings, now=clock())

    async def remind() -> None:
        await approvals.remind_pending(db, settings=settings, now=clock())

    return [
        Job(JOB_NAME, prune, interval_seconds=3600, initial_delay_seconds=60),
        Job(
            APPROVAL_REMINDER_JOB,
            remind,
            interval_seconds=300,
            leader_lock=APPROVAL_REMINDER_JOB,
            initial_delay_seconds=90,
        ),
    ]
