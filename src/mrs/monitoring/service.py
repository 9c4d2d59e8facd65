"""Monitoring use cases: evaluate alerts, keep metric samples, read history and windows.

One evaluator runs at a time across all processes (the "alerts" leader lock). When the
database itself is unreachable the advisory lock cannot be taken either, so a file lock
on this host elects the process that reports it; the notices go to the log and the
webhook, and their history is written once the database is back.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import orjson
from sqlalchemy import delete, func, select
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from mrs.clock import Clock, system_clock
from mrs.db.engine import Database
from mrs.db.leader import exclusive
from mrs.monitoring import channels, metrics, rules, system
from mrs.monitoring.models import AlertEvent, AlertState, MetricSample
from mrs.settings import Settings

logger = logging.getLogger(__name__)
T = TypeVar("T")

BackupSource = Callable[[Database], Awaitable[rules.BackupObservation | None]]


def thresholds(settings: Settings) -> rules.Thresholds:
    return rules.Thresholds(
        memory_percent=settings.alert_memory_percent,
        response_seconds=settings.alert_response_seconds,
        error_rate=settings.alert_error_rate,
        error_min_requests=settings.alert_error_min_requests,
        disk_free_percent=settings.alert_disk_free_percent,
        backup_max_age=timedelta(hours=settings.alert_backup_max_age_hours),
        cooldown=timedelta(seconds=settings.alert_cooldown_seconds),
    )


def watched_directories(settings: Settings) -> dict[str, Path]:
    """The data directory and, once the backup settings exist, the backup directory."""
    paths = {"data": settings.data_dir}
    backup_dir = getattr(settings, "backup_dir", None)  # defined by the ops issue
    if backup_dir:
        paths["backup"] = Path(backup_dir)
    return paths


async def ops_backup_status(db: Database) -> rules.BackupObservation | None:
    """The backup status from mrs.ops; None (unknown) until that package exists."""
    try:
        from mrs.ops.status import backup_status  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    status = await backup_status(db)
    return rules.BackupObservation(
        last_success_at=status.last_success_at,
        last_failure_at=status.last_failure_at,
        last_error=status.last_error,
    )


# Checks abandoned at their timeout, still cleaning up; kept referenced until they end.
_ABANDONED: set[asyncio.Task[Any]] = set()


async def bounded(work: Coroutine[Any, Any, T], seconds: float) -> T:
    """The result of `work`, or TimeoutError after `seconds`.

    Unlike `asyncio.timeout`, this does not wait for the cancelled work to wind down: a
    connection to a database that stopped answering may hang in its clean-up too (the
    rollback, the pool's reset), and a health check must answer anyway.
    """
    task = asyncio.get_running_loop().create_task(work)
    try:
        done, _pending = await asyncio.wait({task}, timeout=seconds)
    except asyncio.CancelledError:
        task.cancel()
        raise
    if not done:
        task.cancel()
        _ABANDONED.add(task)
        task.add_done_callback(_ABANDONED.discard)
        raise TimeoutError(f"no answer within {seconds:g} s")
    return task.result()


async def check_database(db: Database, timeout_seconds: float) -> str | None:
    """None when `SELECT 1` answers on every pool within `timeout_seconds`, else a short
    reason."""
    try:
        await bounded(db.ping(), timeout_seconds)
    except TimeoutError:
        return f"no answer within {timeout_seconds:g} s"
    except (SQLAlchemyError, OSError) as exc:
        cause = getattr(exc, "orig", None) or exc
        lines = str(cause).strip().splitlines()
        return (lines[0] if lines else type(cause).__name__)[:200]
    return None


# --- metric samples and windows ---


def _bucket_map(raw: dict[str, float]) -> dict[float, float]:
    return {float(bound): count for bound, count in raw.items()}


def window_between(
    older: MetricSample | metrics.RequestTotals,
    newer: MetricSample | metrics.RequestTotals,
    seconds: float,
) -> rules.WindowStats:
    """Requests between two cumulative readings. A counter that went down means the
    server restarted (fresh metrics directory): the newer reading is then the delta."""

    def buckets_of(item: MetricSample | metrics.RequestTotals) -> dict[float, float]:
        raw = (
            item.buckets if isinstance(item, metrics.RequestTotals) else orjson.loads(item.buckets)
        )
        return _bucket_map(raw)

    old_buckets, new_buckets = buckets_of(older), buckets_of(newer)
    reset = newer.requests < older.requests
    if reset:
        old_buckets = {}
    delta = {
        bound: max(count - old_buckets.get(bound, 0.0), 0.0) for bound, count in new_buckets.items()
    }
    base_requests = 0.0 if reset else older.requests
    base_errors = 0.0 if reset else older.errors
    base_slow = 0.0 if reset else older.slow
    return rules.WindowStats(
        seconds=max(seconds, 0.0),
        requests=max(newer.requests - base_requests, 0.0),
        errors=max(newer.errors - base_errors, 0.0),
        slow=max(newer.slow - base_slow, 0.0),
        p50=rules.quantile(0.50, delta),
        p95=rules.quantile(0.95, delta),
        p99=rules.quantile(0.99, delta),
    )


async def _baseline(session: AsyncSession, since: datetime) -> MetricSample | None:
    """The latest sample at or before `since`, else the oldest one after it."""
    before = await session.scalar(
        select(MetricSample)
        .where(MetricSample.taken_at <= since)
        .order_by(MetricSample.taken_at.desc())
        .limit(1)
    )
    if before is not None:
        return before
    return await session.scalar(select(MetricSample).order_by(MetricSample.taken_at).limit(1))


async def recent_window(
    db: Database, *, now: datetime, seconds: float, current: metrics.RequestTotals | None = None
) -> rules.WindowStats | None:
    """Request figures over the last `seconds` (None until a first sample exists)."""
    current = current or metrics.request_totals()
    async with db.snapshot() as session:
        base = await _baseline(session, now - timedelta(seconds=seconds))
    if base is None:
        return None
    return window_between(base, current, (now - base.taken_at).total_seconds())


async def sample_series(db: Database, *, now: datetime, hours: float) -> list[MetricSample]:
    async with db.snapshot() as session:
        return list(
            (
                await session.scalars(
                    select(MetricSample)
                    .where(MetricSample.taken_at >= now - timedelta(hours=hours))
                    .order_by(MetricSample.taken_at)
                )
            ).all()
        )


def _new_sample(totals: metrics.RequestTotals, now: datetime) -> MetricSample:
    return MetricSample(
        taken_at=now,
        requests=totals.requests,
        errors=totals.errors,
        slow=totals.slow,
        duration_sum=totals.duration_sum,
        buckets=orjson.dumps(totals.buckets).decode(),
    )


# --- alert history ---


@dataclass(frozen=True)
class AlertEventView:
    event_id: int
    rule: str
    kind: str
    severity: str
    message: str
    value: float | None
    created_at: datetime
    channels: list[str]


async def alert_history(
    db: Database, *, limit: int = 100, rule: str | None = None
) -> list[AlertEventView]:
    """The newest alert events first."""
    query = select(AlertEvent).order_by(AlertEvent.event_id.desc()).limit(limit)
    if rule is not None:
        query = query.where(AlertEvent.rule == rule)
    async with db.snapshot() as session:
        rows = (await session.scalars(query)).all()
    return [
        AlertEventView(
            event_id=row.event_id,
            rule=row.rule,
            kind=row.kind,
            severity=row.severity,
            message=row.message,
            value=row.value,
            created_at=row.created_at,
            channels=[c for c in row.channels.split(",") if c],
        )
        for row in rows
    ]


async def firing_rules(db: Database) -> list[str]:
    async with db.snapshot() as session:
        return list((await session.scalars(select(AlertState.rule).where(AlertState.firing))).all())


# --- the evaluator ---


@asynccontextmanager
async def _host_lock(settings: Settings, name: str) -> AsyncIterator[bool]:
    """A non-blocking file lock in the data directory. Used only while the database (and
    so its advisory lock) is unreachable: one process per host reports the outage."""
    lock_dir = settings.ensure_data_dir() / "locks"
    lock_dir.mkdir(exist_ok=True)
    with (lock_dir / f"{name}.lock").open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass
class _PendingEvent:
    rule: str
    kind: str
    severity: str
    message: str
    value: float | None
    created_at: datetime
    channels: str


@dataclass
class AlertEvaluator:
    """Evaluates every rule, records transitions and sends notices.

    `backup_source` and `observe_memory` are seams for tests (a failing-backup hook);
    in the service they read mrs.ops and /proc.
    """

    db: Database
    settings: Settings
    clock: Clock = system_clock
    backup_source: BackupSource = ops_backup_status
    observe_memory: Callable[[], float | None] = field(
        default=lambda: m.used_percent if (m := system.host_memory()) else None
    )
    # Rule states changed while the database was down, to write when it is back.
    _offline_states: dict[str, rules.RuleState] = field(default_factory=dict)
    _offline_events: list[_PendingEvent] = field(default_factory=list)
    _last_states: dict[str, rules.RuleState] = field(default_factory=dict)

    async def run(self) -> None:
        """One round as the background job: lead, or skip when another process leads."""
        try:
            async with exclusive(self.db, "alerts") as leader:
                if leader:
                    await self.evaluate()
                return
        except (DBAPIError, OSError) as exc:
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
            db_error = (reason[0] if reason else type(exc).__name__)[:200]
        async with _host_lock(self.settings, "alerts-offline") as leader:
            if leader:
                await self.evaluate(db_error=db_error)

    async def observe(self, *, db_error: str | None = None) -> rules.Observations:
        now = self.clock()
        if db_error is None:
            db_error = await check_database(self.db, self.settings.health_db_timeout_seconds)
        disks = {
            str(path): space.free_percent
            for path in watched_directories(self.settings).values()
            if (space := system.disk_space(path)) is not None
        }
        window: rules.WindowStats | None = None
        backup: rules.BackupObservation | None = None
        if db_error is None:
            window = await self._sample_and_window(now)
            try:
                backup = await self.backup_source(self.db)
            except Exception:  # a broken status reader must not stop the other rules
                logger.exception("reading the backup status failed")
        return rules.Observations(
            db_error=db_error,
            memory_percent=self.observe_memory(),
            window=window,
            disk_free_percent=disks,
            backup=backup,
        )

    async def _sample_and_window(self, now: datetime) -> rules.WindowStats | None:
        totals = metrics.request_totals()
        window_seconds = self.settings.alert_window_seconds
        retention = timedelta(hours=self.settings.monitoring_sample_retention_hours)
        async with self.db.transaction() as session:
            base = await _baseline(session, now - timedelta(seconds=window_seconds))
            session.add(_new_sample(totals, now))
            await session.execute(
                delete(MetricSample).where(MetricSample.taken_at < now - retention)
            )
        if base is None:
            return None
        return window_between(base, totals, (now - base.taken_at).total_seconds())

    async def evaluate(self, *, db_error: str | None = None) -> list[rules.RuleResult]:
        """Observe, apply the rules, record and notify. Returns the results."""
        observations = await self.observe(db_error=db_error)
        now = self.clock()
        results = rules.evaluate(observations, thresholds(self.settings), now)
        if observations.db_error is None:
            notices = await self._record(results, now)
        else:
            notices = self._record_offline(results, now)
        for result in results:
            metrics.ALERTS_FIRING.labels(result.rule.value).set(1 if result.firing else 0)
        await channels.deliver(self.settings, notices)
        return results

    def _transitions(
        self, states: dict[str, rules.RuleState], results: list[rules.RuleResult], now: datetime
    ) -> list[tuple[rules.RuleResult, rules.Transition]]:
        cooldown = thresholds(self.settings).cooldown
        return [
            (result, rules.transition(states.get(result.rule.value), result.firing, now, cooldown))
            for result in results
        ]

    def _notice(
        self, result: rules.RuleResult, kind: rules.EventKind, now: datetime
    ) -> channels.Notice:
        return channels.Notice(
            rule=result.rule.value,
            kind=kind.value,
            severity=result.severity,
            message=result.message,
            value=result.value,
            at=now,
        )

    async def _record(
        self, results: list[rules.RuleResult], now: datetime
    ) -> list[channels.Notice]:
        notices: list[channels.Notice] = []
        names = channels.channel_names(self.settings)
        async with self.db.transaction() as session:
            rows = {row.rule: row for row in (await session.scalars(select(AlertState))).all()}
            states = {name: _state_of(row) for name, row in rows.items()}
            states.update(self._offline_states)
            for pending in self._offline_events:
                session.add(AlertEvent(**pending.__dict__))
            new_states = dict(states)
            for result, change in self._transitions(states, results, now):
                new_states[result.rule.value] = change.state
                row = rows.get(result.rule.value)
                if row is None:
                    row = AlertState(rule=result.rule.value)
                    session.add(row)
                _apply(row, change.state, result)
                if change.event is None:
                    continue
                notice = self._notice(result, change.event, now)
                session.add(
                    AlertEvent(
                        rule=notice.rule,
                        kind=notice.kind,
                        severity=notice.severity,
                        message=notice.message[:500],
                        value=notice.value,
                        created_at=now,
                        channels=",".join(names) if change.notify else "",
                    )
                )
                if change.notify:
                    notices.append(notice)
                    await channels.enqueue_email(session, self.settings, notice)
            for name, state in self._offline_states.items():
                if name not in {result.rule.value for result in results}:
                    row = rows.get(name) or AlertState(rule=name, value=None, message="")
                    row.firing, row.since_at = state.firing, state.since_at
                    row.last_notified_at = state.last_notified_at
                    row.notified_firing = state.notified_firing
                    session.add(row)
        self._last_states = new_states
        self._offline_states.clear()
        self._offline_events.clear()
        return notices

    def _record_offline(
        self, results: list[rules.RuleResult], now: datetime
    ) -> list[channels.Notice]:
        states = self._last_states | self._offline_states
        notices: list[channels.Notice] = []
        names = [name for name in channels.channel_names(self.settings) if name != "email"]
        for result, change in self._transitions(states, results, now):
            self._offline_states[result.rule.value] = change.state
            if change.event is None:
                continue
            notice = self._notice(result, change.event, now)
            self._offline_events.append(
                _PendingEvent(
                    rule=notice.rule,
                    kind=notice.kind,
                    severity=notice.severity,
                    message=notice.message[:500],
                    value=notice.value,
                    created_at=now,
                    channels=",".join(names) if change.notify else "",
                )
            )
            if change.notify:
                notices.append(notice)
        return notices


def _state_of(row: AlertState) -> rules.RuleState:
    return rules.RuleState(
        firing=row.firing,
        since_at=row.since_at,
        last_notified_at=row.last_notified_at,
        notified_firing=row.notified_firing,
    )


def _apply(row: AlertState, state: rules.RuleState, result: rules.RuleResult) -> None:
    row.firing = state.firing
    row.since_at = state.since_at
    row.last_notified_at = state.last_notified_at
    row.notified_firing = state.notified_firing
    row.value = result.value
    row.message = result.message[:500]


async def reservation_counts_today(
    db: Database, *, now: datetime, settings: Settings
) -> dict[str, int]:
    """Reservations made and cancelled since local midnight."""
    from mrs.reservations.models import Reservation

    local = now.astimezone(settings.tz)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    async with db.snapshot() as session:
        created = await session.scalar(
            select(func.count()).select_from(Reservation).where(Reservation.created_at >= midnight)
        )
        cancelled = await session.scalar(
            select(func.count())
            .select_from(Reservation)
            .where(Reservation.cancelled_at >= midnight)
        )
    return {"created": int(created or 0), "cancelled": int(cancelled or 0)}
