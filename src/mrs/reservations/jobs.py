"""Reservation housekeeping on the app's background runner."""

from __future__ import annotations

from mrs.background import Job, JobContext
from mrs.reservations import service

JOB_NAME = "idempotency-keys"


def jobs(context: JobContext) -> list[Job]:
    """Prune expired Idempotency-Keys once an hour (a plain DELETE: any process may run it)."""
    db, settings, clock = context.db, context.settings, context.clock

    async def prune() -> None:
        await service.prune_idempotency_keys(db, settings=settings, now=clock())

    return [Job(JOB_NAME, prune, interval_seconds=3600, initial_delay_seconds=60)]
