"""Alert rules and their firing / cooldown / resolution state machine (no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mrs.monitoring import rules
from mrs.monitoring.rules import EventKind, Observations, Rule, WindowStats

NOW = datetime(2030, 1, 7, 0, 0, tzinfo=UTC)
LIMITS = rules.Thresholds(
    memory_percent=90.0,
    response_seconds=5.0,
    error_rate=0.05,
    error_min_requests=20,
    disk_free_percent=10.0,
    backup_max_age=timedelta(hours=26),
    cooldown=timedelta(hours=1),
)


def firing(obs: Observations) -> set[Rule]:
    return {result.rule for result in rules.evaluate(obs, LIMITS, NOW) if result.firing}


def window(**overrides: float | None) -> WindowStats:
    values: dict[str, float | None] = {
        "seconds": 300.0,
        "requests": 100.0,
        "errors": 0.0,
        "slow": 0.0,
        "p50": 0.01,
        "p95": 0.05,
        "p99": 0.1,
    }
    values.update(overrides)
    return WindowStats(**values)  # type: ignore[arg-type]


def test_a_healthy_service_fires_nothing() -> None:
    obs = Observations(
        db_error=None,
        memory_percent=40.0,
        window=window(),
        disk_free_percent={"/data": 50.0},
        backup=rules.BackupObservation(NOW - timedelta(hours=2), None, None),
    )
    assert firing(obs) == set()


def test_each_threshold_fires_its_rule() -> None:
    assert firing(Observations(db_error="connection refused")) == {Rule.DB_CONNECTION}
    assert Rule.MEMORY in firing(Observations(db_error=None, memory_percent=90.5))
    assert Rule.SLOW_REQUESTS in firing(Observations(db_error=None, window=window(slow=1)))
    assert Rule.RESPONSE_TIME_P95 in firing(Observations(db_error=None, window=window(p95=5.5)))
    assert Rule.ERROR_RATE in firing(Observations(db_error=None, window=window(errors=6)))
    assert Rule.DISK_SPACE in firing(
        Observations(db_error=None, disk_free_percent={"/data": 50.0, "/backup": 9.0})
    )


def test_error_rate_needs_enough_requests() -> None:
    # 1 of 2 failing is 50 %, but too few requests to page anyone.
    assert firing(Observations(db_error=None, window=window(requests=2, errors=1))) == set()


@pytest.mark.parametrize(
    ("success_hours_ago", "failure_hours_ago", "fires"),
    [
        (2, None, False),
        (27, None, True),  # stale: older than 26 h
        (2, 1, True),  # the last run failed
        (1, 2, False),  # failed, then succeeded
        (None, None, False),  # no backup yet: nothing to say
    ],
)
def test_backup_failed_or_stale(
    success_hours_ago: int | None, failure_hours_ago: int | None, fires: bool
) -> None:
    def ago(hours: int | None) -> datetime | None:
        return None if hours is None else NOW - timedelta(hours=hours)

    backup = rules.BackupObservation(ago(success_hours_ago), ago(failure_hours_ago), "disk full")
    assert (Rule.BACKUP in firing(Observations(db_error=None, backup=backup))) is fires


def test_unknown_inputs_give_no_result() -> None:
    results = rules.evaluate(Observations(db_error="down"), LIMITS, NOW)
    assert [r.rule for r in results] == [Rule.DB_CONNECTION]


def test_quantile_interpolates_inside_the_bucket() -> None:
    buckets = {0.1: 50.0, 0.5: 90.0, 1.0: 100.0, float("inf"): 100.0}
    assert rules.quantile(0.5, buckets) == pytest.approx(0.1)
    assert rules.quantile(0.95, buckets) == pytest.approx(0.75)
    assert rules.quantile(0.5, {0.1: 0.0, float("inf"): 0.0}) is None


COOLDOWN = timedelta(hours=1)


def step(state: rules.RuleState | None, is_firing: bool, minutes: int) -> rules.Transition:
    return rules.transition(state, is_firing, NOW + timedelta(minutes=minutes), COOLDOWN)


def test_firing_then_quiet_then_resolution() -> None:
    first = step(None, True, 0)
    assert (first.event, first.notify) == (EventKind.FIRING, True)
    again = step(first.state, True, 5)
    assert (again.event, again.notify) == (None, False)  # no repeat within the cooldown
    resolved = step(again.state, False, 10)
    assert (resolved.event, resolved.notify) == (EventKind.RESOLVED, True)
    quiet = step(resolved.state, False, 15)
    assert quiet.event is None


def test_a_reminder_after_the_cooldown() -> None:
    first = step(None, True, 0)
    reminder = step(first.state, True, 61)
    assert (reminder.event, reminder.notify) == (EventKind.REMINDER, True)
    assert step(reminder.state, True, 90).event is None


def test_a_flapping_rule_is_deduplicated_within_the_cooldown() -> None:
    first = step(None, True, 0)
    resolved = step(first.state, False, 5)
    refired = step(resolved.state, True, 10)
    assert (refired.event, refired.notify) == (EventKind.FIRING, False)
    # Its resolution is not announced either: nobody was told it fired.
    unseen = step(refired.state, False, 12)
    assert (unseen.event, unseen.notify) == (EventKind.RESOLVED, False)
    # Still firing once the cooldown has passed: now it is announced.
    refired = step(unseen.state, True, 20)
    late = step(refired.state, True, 61)
    assert (late.event, late.notify) == (EventKind.FIRING, True)
