"""Several evaluators (workers, hosts) on one database: each alert transition is
delivered once, to a real webhook receiver, however they race."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from mrs.clock import FixedClock
from mrs.db.engine import Database
from mrs.monitoring.service import AlertEvaluator, alert_history
from mrs.settings import Settings
from tests.faults import FaultProxy
from tests.monitoring.conftest import WebhookReceiver

EVALUATORS = 2
ROUNDS_PER_PHASE = 4
PHASES = 6


@pytest.fixture
async def databases(settings: Settings) -> AsyncIterator[list[Database]]:
    """One Database (own pools) per evaluator, as separate worker processes have."""
    opened = [Database(settings) for _ in range(EVALUATORS)]
    yield opened
    for database in opened:
        await database.dispose()


async def test_concurrent_evaluators_deliver_each_transition_once(
    settings: Settings, databases: list[Database], webhook: WebhookReceiver, clock: FixedClock
) -> None:
    memory = {"percent": 10.0}
    tuned = settings.model_copy(
        update={"alert_webhook_url": webhook.url, "alert_cooldown_seconds": 3600}
    )
    evaluators = [
        AlertEvaluator(db, tuned, clock, observe_memory=lambda: memory["percent"])
        for db in databases
    ]
    for phase in range(PHASES):
        memory["percent"] = 99.0 if phase % 2 == 0 else 10.0
        # Past the cooldown, so every FIRING is announced (not de-duplicated).
        clock.now = clock.now + timedelta(hours=2)
        for _ in range(ROUNDS_PER_PHASE):
            # Past the leader lock, as two hosts whose lock calls interleave would.
            await asyncio.gather(*(evaluator.evaluate() for evaluator in evaluators))
    firing, resolved = webhook.of("memory", "FIRING"), webhook.of("memory", "RESOLVED")
    print(f"\n{EVALUATORS} evaluators: {len(firing)} FIRING, {len(resolved)} RESOLVED delivered")
    assert len(firing) == PHASES // 2
    assert len(resolved) == PHASES // 2
    kinds = [event.kind for event in await alert_history(databases[0], rule="memory")]
    assert kinds == ["RESOLVED", "FIRING"] * (PHASES // 2)


async def test_a_database_outage_is_told_once_by_the_workers_of_a_host(
    settings: Settings,
    webhook: WebhookReceiver,
    clock: FixedClock,
    pg_proxy: tuple[FaultProxy, str],
) -> None:
    proxy, proxied_url = pg_proxy
    tuned = settings.model_copy(
        update={
            "alert_webhook_url": webhook.url,
            "database_url": proxied_url,
            "health_db_timeout_seconds": 1.0,
        }
    )
    workers = [Database(tuned) for _ in range(EVALUATORS)]
    evaluators = [AlertEvaluator(db, tuned, clock) for db in workers]
    try:

        async def rounds(count: int) -> None:
            for _ in range(count):
                clock.now = clock.now + timedelta(seconds=30)
                await asyncio.gather(*(evaluator.run() for evaluator in evaluators))

        await rounds(2)
        proxy.drop()
        await rounds(4)
        proxy.pass_through()
        await rounds(4)
    finally:
        for db in workers:
            await db.dispose()
    print(
        f"\ndatabase outage with {EVALUATORS} workers: "
        f"{len(webhook.of('db_connection', 'FIRING'))} FIRING, "
        f"{len(webhook.of('db_connection', 'RESOLVED'))} RESOLVED delivered"
    )
    assert len(webhook.of("db_connection", "FIRING")) == 1
    assert len(webhook.of("db_connection", "RESOLVED")) == 1
