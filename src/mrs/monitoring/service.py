"""Monitoring use cases: evaluate alerts, keep metric samples, read history and windows.

One evaluator runs at a time across all processes (the "alerts" leader lock). When the
database itself is unreachable the advisory lock cannot be taken either, so a file lock
on this host elects the process that reports it; the notices go to the log and the
webhook, and their history is written once the database is back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import orjson
from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from mrs.clock import Clock, system_clock
from mrs.db.engine import Database
from mrs.db.filelock import host_lock
from mrs.db.leader import exclusive
from mrs.monitoring import channels, metrics, rules, system
from mrs.monitoring.channels import Notice
from mrs.monitoring.models import AlertEvent, AlertState, MetricSample
from mrs.ops.status import backup_status
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
    """The data directory and, when set apart from it, the backup directory."""
    paths = {"data": settings.data_dir}
    if settings.backup_dir:
        paths["backup"] = settings.backup_dir
    return paths


async def ops_backup_status(db: Database) -> rules.BackupObservation | None:
    """The backup status as mrs.ops records it."""
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


@dataclass
class _PendingEvent:
    """An alert event row: stored at once, or kept in the offline file until the database
    is back."""

    rule: str
    kind: str
    severity: str
    message: str
    value: float | None
    created_at: datetime
    channels: str

    @classmethod
    def of(cls, notice: Notice, now: datetime, channel_names: list[str]) -> _PendingEvent:
        """The event row of a notice, told through `channel_names` (none: recorded only)."""
        return cls(
            rule=notice.rule,
            kind=notice.kind,
            severity=notice.severity,
            message=notice.message[:500],
            value=notice.value,
            created_at=now,
            channels=",".join(channel_names),
        )


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
    # The states this process last read or wrote, to start from if the database goes away.
    _last_states: dict[str, rules.RuleState] = field(default_factory=dict)

    async def __call__(self) -> None:
        """One round, as the background runner calls it."""
        await self.run()

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
            notices = await self._record_offline(results, now)
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
        """Record the transitions in the database; the notices this evaluator won."""
        path = _offline_path(self.settings)
        # Whoever holds the host lock also writes what this host saw while the database
        # was away (and then forgets it); the others leave it to them.
        async with host_lock(self.settings, OFFLINE_LOCK) as reconciling:
            offline_states, offline_events = _load_offline(path) if reconciling else ({}, [])
            notices = await self._record_online(results, now, offline_states, offline_events)
            if offline_states or offline_events:
                path.unlink(missing_ok=True)
        return notices

    async def _record_online(
        self,
        results: list[rules.RuleResult],
        now: datetime,
        offline_states: dict[str, rules.RuleState],
        offline_events: list[_PendingEvent],
    ) -> list[channels.Notice]:
        notices: list[channels.Notice] = []
        names = channels.channel_names(self.settings)
        cooldown = thresholds(self.settings).cooldown
        by_rule = {result.rule.value: result for result in results}
        new_states: dict[str, rules.RuleState] = {}
        async with self.db.transaction() as session:
            rows = {row.rule: row for row in (await session.scalars(select(AlertState))).all()}
            for pending in offline_events:
                session.add(AlertEvent(**pending.__dict__))
            # In one order everywhere, so two evaluators never wait for each other's rows
            # the other way round.
            for name in sorted(set(by_rule) | set(offline_states)):
                row = rows.get(name)
                stored = _state_of(row) if row is not None else None
                previous = offline_states.get(name, stored)
                result = by_rule.get(name)
                if result is None:  # input unknown now: keep what the outage left
                    assert previous is not None
                    change = rules.Transition(previous, None, False)
                else:
                    change = rules.transition(previous, result.firing, now, cooldown)
                new_states[name] = change.state
                if change.state == stored and result is not None:
                    # Nothing moved: refresh the value shown, leave the version alone.
                    await session.execute(
                        update(AlertState)
                        .where(AlertState.rule == name)
                        .values(value=result.value, message=result.message[:500])
                        .execution_options(synchronize_session=False)
                    )
                    continue
                if not await self._move(session, name, row, change.state, result):
                    continue  # another evaluator made this transition first: it tells
                if change.event is None or result is None:
                    continue
                notice = self._notice(result, change.event, now)
                event = _PendingEvent.of(notice, now, names if change.notify else [])
                session.add(AlertEvent(**event.__dict__))
                if change.notify:
                    notices.append(notice)
                    await channels.enqueue_email(session, self.settings, notice)
        self._last_states = new_states
        return notices

    async def _move(
        self,
        session: AsyncSession,
        name: str,
        row: AlertState | None,
        state: rules.RuleState,
        result: rules.RuleResult | None,
    ) -> bool:
        """Store `state` if the rule is still at the version read; False if it moved."""
        values: dict[str, object] = {
            "firing": state.firing,
            "since_at": state.since_at,
            "last_notified_at": state.last_notified_at,
            "notified_firing": state.notified_firing,
        }
        if result is not None:
            values |= {"value": result.value, "message": result.message[:500]}
        # Core statements on the session's connection; RETURNING says whether a row
        # matched (an insert's rowcount is not reported through every driver).
        connection = await session.connection()
        if row is None:
            insert = pg_insert if self.db.dialect == "postgresql" else sqlite_insert
            created = await connection.execute(
                insert(AlertState)
                .values(rule=name, version=1, **({"message": ""} | values))
                .on_conflict_do_nothing(index_elements=["rule"])
                .returning(AlertState.rule)
            )
            return created.first() is not None
        moved = await connection.execute(
            update(AlertState)
            .where(AlertState.rule == name, AlertState.version == row.version)
            .values(version=row.version + 1, **values)
            .returning(AlertState.rule)
        )
        return moved.first() is not None

    async def _record_offline(
        self, results: list[rules.RuleResult], now: datetime
    ) -> list[channels.Notice]:
        """The database is away: this host's processes share the rules' states in a file
        (under a file lock), so the outage is told once per host, not once per worker."""
        notices: list[channels.Notice] = []
        async with host_lock(self.settings, OFFLINE_LOCK) as leader:
            if not leader:
                return notices  # another process on this host is recording right now
            path = _offline_path(self.settings)
            offline_states, offline_events = _load_offline(path)
            states = self._last_states | offline_states
            names = [name for name in channels.channel_names(self.settings) if name != "email"]
            for result, change in self._transitions(states, results, now):
                offline_states[result.rule.value] = change.state
                if change.event is None:
                    continue
                notice = self._notice(result, change.event, now)
                offline_events.append(_PendingEvent.of(notice, now, names if change.notify else []))
                if change.notify:
                    notices.append(notice)
            _save_offline(path, offline_states, offline_events)
        return notices


OFFLINE_LOCK = "alerts-offline"


def _offline_path(settings: Settings) -> Path:
    return settings.ensure_data_dir() / "locks" / "alerts-offline.json"


def _load_offline(path: Path) -> tuple[dict[str, rules.RuleState], list[_PendingEvent]]:
    """The states and events this host recorded while the database was away."""
    try:
        data = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        return {}, []
    except (OSError, orjson.JSONDecodeError):
        logger.warning("ignoring an unreadable offline alert state in %s", path)
        return {}, []
    states = {
        name: rules.RuleState(
            firing=item["firing"],
            since_at=datetime.fromisoformat(item["since_at"]),
            last_notified_at=datetime.fromisoformat(item["last_notified_at"])
            if item["last_notified_at"]
            else None,
            notified_firing=item["notified_firing"],
        )
        for name, item in data.get("states", {}).items()
    }
    events = [
        _PendingEvent(**(item | {"created_at": datetime.fromisoformat(item["created_at"])}))
        for item in data.get("events", [])
    ]
    return states, events


def _save_offline(
    path: Path, states: dict[str, rules.RuleState], events: list[_PendingEvent]
) -> None:
    data = {
        "states": {
            name: {
                "firing": state.firing,
                "since_at": state.since_at.isoformat(),
                "last_notified_at": state.last_notified_at.isoformat()
                if state.last_notified_at
                else None,
                "notified_firing": state.notified_firing,
            }
            for name, state in states.items()
        },
        "events": [
            event.__dict__ | {"created_at": event.created_at.isoformat()} for event in events
        ],
    }
    partial = path.with_suffix(".partial")
    partial.write_bytes(orjson.dumps(data))
    partial.replace(path)


def _state_of(row: AlertState) -> rules.RuleState:
    return rules.RuleState(
        firing=row.firing,
        since_at=row.since_at,
        last_notified_at=row.last_notified_at,
        notified_firing=row.notified_firing,
    )


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
