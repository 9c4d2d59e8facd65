"""Reservation housekeeping on the app's background runner."""

from __future__ import annotations

from fastapi import FastAPI

from mrs.reservations import service

JOB_NAME = "idempotency-keys"


def install(app: FastAPI) -> None:
    """Prune expired Idempotency-Keys once an hour (a plain DELETE: any process may run it)."""
    db, settings, clock = app.state.db, app.state.settings, app.state.clock

    async def prune() -> None:
        await service.prune_idempotency_keys(db, settings=settings, now=clock())

    app.state.background.add(JOB_NAME, prune, interval_seconds=3600, initial_delay_seconds=60)
