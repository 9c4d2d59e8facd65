"""When a scheduled backup is due: cron in the site's time zone, catch-up, retry pacing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from mrs.ops.canonical import canonical_line
from mrs.ops.schedule import is_due, previous_fire
from mrs.settings import Settings

TOKYO = ZoneInfo("Asia/Tokyo")
DAILY = "0 3 * * *"
HOUR = timedelta(hours=1)


def at(hour: int, minute: int = 0, day: int = 10) -> datetime:
    return datetime(2030, 1, day, hour, minute, tzinfo=TOKYO)


def test_the_schedule_is_read_in_the_site_time_zone() -> None:
    assert previous_fire(DAILY, TOKYO, at(9)) == at(3)
    assert previous_fire(DAILY, TOKYO, at(3)) == at(3)
    assert previous_fire(DAILY, TOKYO, at(2, 59)) == at(3, day=9)


def test_a_backup_is_due_after_the_fire_time_until_one_succeeds() -> None:
    assert is_due(
        schedule=DAILY,
        tz=TOKYO,
        now=at(3),
        last_success=at(3, day=9),
        last_attempt=None,
        retry_after=HOUR,
    )
    assert not is_due(
        schedule=DAILY,
        tz=TOKYO,
        now=at(9),
        last_success=at(3, 1),
        last_attempt=at(3, 1),
        retry_after=HOUR,
    )


def test_a_run_missed_while_down_is_caught_up_at_start() -> None:
    # Down from the 9th 20:00 to the 10th 11:00: the 03:00 run never happened.
    assert is_due(
        schedule=DAILY,
        tz=TOKYO,
        now=at(11),
        last_success=at(3, day=9),
        last_attempt=at(3, day=9),
        retry_after=HOUR,
    )


def test_a_new_installation_backs_up_at_once() -> None:
    assert is_due(
        schedule=DAILY,
        tz=TOKYO,
        now=at(11),
        last_success=None,
        last_attempt=None,
        retry_after=HOUR,
    )


def test_a_failed_run_is_retried_after_the_retry_interval_not_every_minute() -> None:
    failed = at(3, 1)
    kwargs = {"schedule": DAILY, "tz": TOKYO, "last_success": at(3, day=9), "retry_after": HOUR}
    assert not is_due(now=at(3, 30), last_attempt=failed, **kwargs)  # type: ignore[arg-type]
    assert is_due(now=at(4, 2), last_attempt=failed, **kwargs)  # type: ignore[arg-type]


def test_the_monthly_drill_schedule() -> None:
    drill = "30 4 1 * *"
    assert previous_fire(drill, TOKYO, at(9, day=20)) == datetime(2030, 1, 1, 4, 30, tzinfo=TOKYO)


def test_a_bad_cron_expression_is_refused_by_settings() -> None:
    with pytest.raises(ValueError, match="not a cron expression"):
        Settings(backup_schedule="every day at 3")


def test_the_canonical_row_form_is_dialect_neutral() -> None:
    naive_utc = datetime(2030, 1, 1, 0, 0, 0, 5)  # SQLite hands UTC back without a zone
    aware = datetime(2030, 1, 1, 9, 0, 0, 5, tzinfo=TOKYO).astimezone(UTC)
    assert canonical_line([naive_utc]) == canonical_line([aware])
    assert canonical_line([1, "太郎", None, True, date(2030, 1, 2), aware]) == (
        '[1,"太郎",null,true,"2030-01-02","2030-01-01T00:00:00.000005Z"]'.encode()
    )
