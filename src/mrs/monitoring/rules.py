"""Alert rules and the firing/cooldown/resolution state machine (pure: no I/O).

The evaluator gathers `Observations`, `evaluate` turns them into one `RuleResult` per rule
whose input is known, and `transition` decides, per rule, what to record and whom to tell.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class Rule(StrEnum):
    DB_CONNECTION = "db_connection"
    MEMORY = "memory"
    SLOW_REQUESTS = "slow_requests"
    RESPONSE_TIME_P95 = "response_time_p95"
    ERROR_RATE = "error_rate"
    DISK_SPACE = "disk_space"
    BACKUP = "backup"


SEVERITY = {
    Rule.DB_CONNECTION: "critical",
    Rule.MEMORY: "warning",
    Rule.SLOW_REQUESTS: "warning",
    Rule.RESPONSE_TIME_P95: "warning",
    Rule.ERROR_RATE: "critical",
    Rule.DISK_SPACE: "warning",
    Rule.BACKUP: "critical",
}


class EventKind(StrEnum):
    FIRING = "FIRING"
    REMINDER = "REMINDER"
    RESOLVED = "RESOLVED"


@dataclass(frozen=True)
class Thresholds:
    memory_percent: float
    response_seconds: float
    error_rate: float
    error_min_requests: int
    disk_free_percent: float
    backup_max_age: timedelta
    cooldown: timedelta


@dataclass(frozen=True)
class WindowStats:
    """Requests over a recent window (differences between two metric samples)."""

    seconds: float
    requests: float
    errors: float
    slow: float
    p50: float | None
    p95: float | None
    p99: float | None

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else 0.0

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class BackupObservation:
    last_success_at: datetime | None
    last_failure_at: datetime | None
    last_error: str | None


@dataclass(frozen=True)
class Observations:
    """What the evaluator saw. None means "unknown": that rule keeps its state."""

    db_error: str | None
    memory_percent: float | None = None
    window: WindowStats | None = None
    # Free space in percent, per watched directory.
    disk_free_percent: Mapping[str, float] | None = None
    backup: BackupObservation | None = None


@dataclass(frozen=True)
class RuleResult:
    rule: Rule
    firing: bool
    value: float | None
    message: str

    @property
    def severity(self) -> str:
        return SEVERITY[self.rule]


def quantile(q: float, buckets: Mapping[float, float]) -> float | None:
    """Estimate the q-quantile from cumulative histogram buckets {upper bound: count},
    interpolating inside the bucket (like Prometheus' histogram_quantile)."""
    if not buckets:
        return None
    bounds = sorted(buckets)
    total = buckets[bounds[-1]]
    if total <= 0:
        return None
    rank = q * total
    lower_bound, lower_count = 0.0, 0.0
    for bound in bounds:
        count = buckets[bound]
        if count >= rank:
            if bound == float("inf"):
                return lower_bound  # beyond the last finite bucket: its bound is all we know
            span = count - lower_count
            fraction = (rank - lower_count) / span if span > 0 else 1.0
            return lower_bound + (bound - lower_bound) * fraction
        lower_bound, lower_count = bound, count
    return bounds[-1]


def evaluate(obs: Observations, limits: Thresholds, now: datetime) -> list[RuleResult]:
    """One result per rule whose input is known."""
    results = [
        RuleResult(
            Rule.DB_CONNECTION,
            obs.db_error is not None,
            None,
            f"The database cannot be reached: {obs.db_error}"
            if obs.db_error
            else "The database is reachable.",
        )
    ]
    if obs.memory_percent is not None:
        results.append(
            RuleResult(
                Rule.MEMORY,
                obs.memory_percent > limits.memory_percent,
                obs.memory_percent,
                f"Host memory use is {obs.memory_percent:.1f} % "
                f"(threshold {limits.memory_percent:.1f} %).",
            )
        )
    if obs.window is not None:
        results.extend(_window_rules(obs.window, limits))
    if obs.disk_free_percent:
        path, free = min(obs.disk_free_percent.items(), key=lambda item: item[1])
        results.append(
            RuleResult(
                Rule.DISK_SPACE,
                free < limits.disk_free_percent,
                free,
                f"Free disk space for {path} is {free:.1f} % "
                f"(threshold {limits.disk_free_percent:.1f} %).",
            )
        )
    if obs.backup is not None:
        results.append(_backup_rule(obs.backup, limits, now))
    return results


def _span(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


def _window_rules(window: WindowStats, limits: Thresholds) -> list[RuleResult]:
    span = _span(window.seconds)
    results = [
        RuleResult(
            Rule.SLOW_REQUESTS,
            window.slow > 0,
            window.slow,
            f"{window.slow:.0f} requests took longer than {limits.response_seconds:g} s "
            f"in the last {span}.",
        )
    ]
    p95 = window.p95
    results.append(
        RuleResult(
            Rule.RESPONSE_TIME_P95,
            p95 is not None and p95 > limits.response_seconds,
            p95,
            f"p95 response time is {p95:.3f} s over the last {span} "
            f"(threshold {limits.response_seconds:g} s)."
            if p95 is not None
            else "No requests in the window.",
        )
    )
    enough = window.requests >= limits.error_min_requests
    results.append(
        RuleResult(
            Rule.ERROR_RATE,
            enough and window.error_rate > limits.error_rate,
            window.error_rate,
            f"{window.error_rate * 100:.1f} % of {window.requests:.0f} requests failed with a "
            f"server error in the last {span} "
            f"(threshold {limits.error_rate * 100:.1f} %).",
        )
    )
    return results


def _backup_rule(backup: BackupObservation, limits: Thresholds, now: datetime) -> RuleResult:
    success, failure = backup.last_success_at, backup.last_failure_at
    if failure is not None and (success is None or failure > success):
        return RuleResult(
            Rule.BACKUP,
            True,
            None,
            f"The last backup failed at {failure.isoformat(timespec='seconds')}: "
            f"{backup.last_error or 'no reason given'}.",
        )
    if success is None:
        return RuleResult(Rule.BACKUP, False, None, "No backup has run yet.")
    age = now - success
    hours = age.total_seconds() / 3600
    return RuleResult(
        Rule.BACKUP,
        age > limits.backup_max_age,
        hours,
        f"The last good backup is {hours:.1f} h old "
        f"(threshold {limits.backup_max_age.total_seconds() / 3600:g} h).",
    )


@dataclass(frozen=True)
class RuleState:
    """A rule's remembered state (the alert_state row)."""

    firing: bool
    since_at: datetime
    last_notified_at: datetime | None
    notified_firing: bool


@dataclass(frozen=True)
class Transition:
    state: RuleState
    # The history entry to write, if anything happened.
    event: EventKind | None
    # Whether to send it to the channels (False: de-duplicated by the cooldown).
    notify: bool


def transition(
    previous: RuleState | None, firing: bool, now: datetime, cooldown: timedelta
) -> Transition:
    """Decide what a new result means given the rule's previous state.

    - It starts firing: notify, unless a notice for this rule went out less than
      `cooldown` ago (a flapping rule is told once per cooldown).
    - It keeps firing: a reminder once per cooldown; a de-duplicated firing is sent
      once its cooldown has passed.
    - It stops firing: a resolution notice, when its firing was notified.
    """
    cooled = (
        previous is None
        or previous.last_notified_at is None
        or (now - previous.last_notified_at >= cooldown)
    )
    was_firing = previous is not None and previous.firing
    if firing and not was_firing:
        state = RuleState(True, now, now if cooled else _last(previous), cooled)
        return Transition(state, EventKind.FIRING, cooled)
    if firing and previous is not None:
        if cooled:
            kind = EventKind.REMINDER if previous.notified_firing else EventKind.FIRING
            return Transition(RuleState(True, previous.since_at, now, True), kind, True)
        return Transition(previous, None, False)
    if was_firing and previous is not None:
        state = RuleState(False, now, previous.last_notified_at, False)
        return Transition(state, EventKind.RESOLVED, previous.notified_firing)
    state = previous or RuleState(False, now, None, False)
    return Transition(state, None, False)


def _last(previous: RuleState | None) -> datetime | None:
    return previous.last_notified_at if previous is not None else None
