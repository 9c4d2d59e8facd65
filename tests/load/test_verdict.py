"""The load test's verdict: what makes a run fail (loadtest/run_load.py's judge)."""

from __future__ import annotations

from typing import Any

from loadtest.harness import IntegrityReport
from loadtest.run_load import judge, parse_duration


def result(**statuses: dict[str, int]) -> dict[str, Any]:
    names = {
        "reserve (contested)" if key == "reserve_contested" else key.replace("_", " "): codes
        for key, codes in statuses.items()
    }
    return {"statuses": names, "times_ms": {name: [10.0, 20.0] for name in names}}


def clean_run() -> dict[str, Any]:
    return result(
        login={"200": 10},
        reserve={"201": 50, "409": 5},
        reserve_contested={"201": 2, "409": 20},
        cancel={"204": 7},
    )


def healthy_db() -> IntegrityReport:
    return IntegrityReport(active=45, cancelled=7, overlapping_pairs=0)


def test_conflicts_on_reservations_are_expected_and_pass() -> None:
    verdict = judge(clean_run(), healthy_db(), duration=30, max_unexpected_ratio=0.0)
    assert verdict.problems == []


def test_any_server_error_fails_the_run() -> None:
    run = clean_run()
    run["statuses"]["reserve"]["500"] = 1
    problems = judge(run, healthy_db(), duration=30, max_unexpected_ratio=0.5).problems
    assert any("5xx" in problem for problem in problems)


def test_a_conflict_where_none_is_expected_is_a_failure() -> None:
    run = clean_run()
    run["statuses"]["cancel"]["409"] = 1
    problems = judge(run, healthy_db(), duration=30, max_unexpected_ratio=0.0).problems
    assert any("failure ratio" in problem for problem in problems)


def test_a_double_booking_found_in_sql_fails_the_run() -> None:
    db = IntegrityReport(active=45, cancelled=7, overlapping_pairs=1)
    problems = judge(clean_run(), db, duration=30, max_unexpected_ratio=0.0).problems
    assert any("double booking" in problem for problem in problems)


def test_rows_the_clients_never_saw_fail_the_run() -> None:
    db = IntegrityReport(active=46, cancelled=7, overlapping_pairs=0)
    problems = judge(clean_run(), db, duration=30, max_unexpected_ratio=0.0).problems
    assert any("disagrees" in problem for problem in problems)


def test_a_run_without_any_conflict_did_not_test_the_race() -> None:
    run = result(reserve={"201": 5}, reserve_contested={"201": 1})
    db = IntegrityReport(active=6, cancelled=0, overlapping_pairs=0)
    problems = judge(run, db, duration=30, max_unexpected_ratio=0.0).problems
    assert any("race" in problem for problem in problems)


def test_durations_read_like_locust_run_times() -> None:
    assert parse_duration("60s") == 60
    assert parse_duration("2m") == 120
    assert parse_duration("1m30s") == 90
    assert parse_duration("45") == 45
