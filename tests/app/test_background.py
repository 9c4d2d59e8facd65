"""Background jobs: run periodically, survive failures, one leader across processes."""

from __future__ import annotations

import asyncio

from mrs.background import BackgroundRunner
from mrs.db.engine import Database
from mrs.db.leader import exclusive


async def test_a_failing_job_is_recorded_and_keeps_running(db: Database) -> None:
    runner = BackgroundRunner(db)
    calls: list[int] = []

    async def flaky() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("boom")

    runner.add("flaky", flaky, interval_seconds=0.01)
    await runner.run_once("flaky")
    assert runner.states()[0].last_error == "RuntimeError: boom"
    await runner.run_once("flaky")
    assert runner.states()[0].last_error is None
    assert runner.states()[0].runs == 2


async def test_the_runner_starts_and_stops_its_loops(db: Database) -> None:
    runner = BackgroundRunner(db)
    ticks: list[int] = []

    async def tick() -> None:
        ticks.append(1)

    runner.add("tick", tick, interval_seconds=0.01)
    await runner.start()
    for _ in range(100):
        if len(ticks) >= 3:
            break
        await asyncio.sleep(0.01)
    await runner.stop()
    assert len(ticks) >= 3


async def test_only_one_holder_of_a_postgres_lock_at_a_time(db: Database) -> None:
    async with exclusive(db, "job") as first, exclusive(db, "job") as second:
        assert first is True
        assert second is False
    async with exclusive(db, "job") as again:
        assert again is True


async def test_a_leader_only_job_is_skipped_while_another_process_leads(db: Database) -> None:
    runner = BackgroundRunner(db)
    ran: list[int] = []

    async def job() -> None:
        ran.append(1)

    runner.add("backup", job, interval_seconds=60, leader_lock="backup")
    async with exclusive(db, "backup"):
        await runner.run_once("backup")
    assert ran == []
    assert runner.states()[0].skipped_not_leader == 1
    await runner.run_once("backup")
    assert ran == [1]


async def test_sqlite_uses_a_file_lock(tmp_path: object, sqlite_url: str) -> None:
    from pathlib import Path

    from mrs.settings import Settings

    sqlite_db = Database(Settings(data_dir=Path(str(tmp_path)) / "d", database_url=sqlite_url))
    try:
        async with exclusive(sqlite_db, "job") as first, exclusive(sqlite_db, "job") as second:
            assert (first, second) == (True, False)
    finally:
        await sqlite_db.dispose()
