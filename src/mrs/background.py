"""Periodic background jobs inside `mrs serve` (mail outbox, alerts, backups, ...).

Each domain package offers its jobs as a function `jobs(context) -> list[Job]`; the
composition root (mrs.app) adds them to the app's runner (`app.state.background`), which
starts them with the app and cancels them on shutdown. A job that must run in only one
process at a time names a lock (see mrs.db.leader); the others skip that round. The
runner keeps a heartbeat per job so health checks can tell a stuck or dead worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from mrs.clock import Clock, system_clock
from mrs.db.engine import Database
from mrs.db.leader import exclusive
from mrs.settings import Settings

logger = logging.getLogger(__name__)

JobFunction = Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class JobContext:
    """What a package's jobs are built from: the app's settings, database and clocks."""

    settings: Settings
    db: Database
    # The domain's "now" (tests pin it) ...
    clock: Clock
    # ... and real time, for what must agree with token expiry and stored queue times.
    auth_clock: Clock


@dataclass(frozen=True)
class Job:
    """A periodic job a package offers; see `BackgroundRunner.add` for the fields."""

    name: str
    function: JobFunction
    interval_seconds: float
    leader_lock: str | None = None
    initial_delay_seconds: float = 0.0


JobSource = Callable[[JobContext], list[Job]]


@dataclass
class JobState:
    """What the runner knows about one job, for health checks and the dashboard."""

    name: str
    interval_seconds: float
    leader_lock: str | None
    last_started_at: datetime | None = None
    last_finished_at: datetime | None = None
    last_error: str | None = None
    runs: int = 0
    skipped_not_leader: int = 0


@dataclass
class _Job:
    state: JobState
    function: JobFunction
    initial_delay_seconds: float


@dataclass
class BackgroundRunner:
    db: Database
    jobs: list[_Job] = field(default_factory=list)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    started_at: datetime | None = None

    def add(
        self,
        name: str,
        function: JobFunction,
        *,
        interval_seconds: float,
        leader_lock: str | None = None,
        initial_delay_seconds: float = 0.0,
    ) -> None:
        """Run `function` every `interval_seconds` (after `initial_delay_seconds`)."""
        if interval_seconds <= 0:
            raise ValueError("interval_seconds must be positive")
        state = JobState(name=name, interval_seconds=interval_seconds, leader_lock=leader_lock)
        self.jobs.append(_Job(state, function, initial_delay_seconds))

    def add_job(self, job: Job) -> None:
        """Register a job a package offered."""
        self.add(
            job.name,
            job.function,
            interval_seconds=job.interval_seconds,
            leader_lock=job.leader_lock,
            initial_delay_seconds=job.initial_delay_seconds,
        )

    def function(self, name: str) -> JobFunction:
        """The function registered as job `name` (tests drive jobs through it)."""
        for job in self.jobs:
            if job.state.name == name:
                return job.function
        raise KeyError(name)

    def states(self) -> list[JobState]:
        return [job.state for job in self.jobs]

    async def start(self) -> None:
        self.started_at = system_clock()
        for job in self.jobs:
            self._tasks.append(
                asyncio.create_task(self._loop(job), name=f"mrs-job-{job.state.name}")
            )

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    async def run_once(self, name: str) -> None:
        """Run one job now (tests and CLI use this)."""
        for job in self.jobs:
            if job.state.name == name:
                await self._run(job)
                return
        raise KeyError(name)

    async def _loop(self, job: _Job) -> None:
        if job.initial_delay_seconds:
            await asyncio.sleep(job.initial_delay_seconds)
        while True:
            await self._run(job)
            await asyncio.sleep(job.state.interval_seconds)

    async def _run(self, job: _Job) -> None:
        state = job.state
        state.last_started_at = system_clock()
        try:
            if state.leader_lock is None:
                await job.function()
            else:
                async with exclusive(self.db, state.leader_lock) as leader:
                    if not leader:
                        state.skipped_not_leader += 1
                        return
                    await job.function()
            state.last_error = None
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a failing job must never kill the runner
            state.last_error = f"{type(exc).__name__}: {exc}"
            logger.exception("background job %s failed", state.name)
        finally:
            state.runs += 1
            state.last_finished_at = system_clock()
