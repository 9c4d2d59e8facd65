"""Account housekeeping on the app's background runner."""

from __future__ import annotations

from mrs.accounts import password_reset, sessions
from mrs.background import Job, JobContext

JOB_NAME = "accounts-housekeeping"


def jobs(context: JobContext) -> list[Job]:
    """Prune old login attempts, ended sessions and old password reset requests and links
    once an hour (idempotent, no leader)."""
    # Real time: the login history is judged against the same clock as the sessions.
    db, settings, clock = context.db, context.settings, context.auth_clock

    async def prune() -> None:
        await sessions.prune_history(db, settings, now=clock())
        await password_reset.prune_history(db, settings, now=clock())

    return [Job(JOB_NAME, prune, interval_seconds=3600, initial_delay_seconds=60)]
