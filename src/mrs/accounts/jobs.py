"""Account housekeeping on the app's background runner."""

from __future__ import annotations

from fastapi import FastAPI

from mrs.accounts import sessions

JOB_NAME = "accounts-housekeeping"


def install(app: FastAPI) -> None:
    """Prune old login attempts and ended sessions once an hour (idempotent, no leader)."""
    db, settings, clock = app.state.db, app.state.settings, app.state.auth_clock

    async def prune() -> None:
        await sessions.prune_history(db, settings, now=clock())

    app.state.background.add(JOB_NAME, prune, interval_seconds=3600, initial_delay_seconds=60)
