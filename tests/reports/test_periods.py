"""The report period's rules (no database)."""

from __future__ import annotations

from datetime import date

import pytest

from mrs.reports.periods import (
    PeriodBackwards,
    PeriodTooLong,
    default_period,
    period,
    share,
)


def test_a_period_of_one_day_and_of_366_days_is_accepted() -> None:
    assert period(date(2030, 1, 1), date(2030, 1, 1)).days == 1
    assert period(date(2028, 1, 1), date(2028, 12, 31)).days == 366


def test_a_period_of_367_days_is_refused() -> None:
    with pytest.raises(PeriodTooLong) as refused:
        period(date(2028, 1, 1), date(2029, 1, 1))
    assert refused.value.params == {"max_days": 366, "days": 367}


def test_a_period_running_backwards_is_refused() -> None:
    with pytest.raises(PeriodBackwards):
        period(date(2030, 1, 2), date(2030, 1, 1))


def test_the_default_period_is_the_last_30_days_with_today() -> None:
    span = default_period(date(2030, 1, 30))
    assert (span.first, span.last, span.days) == (date(2030, 1, 1), date(2030, 1, 30), 30)


def test_a_share_of_nothing_is_zero() -> None:
    assert share(0, 0) == 0.0
    assert share(5, 0) == 0.0
    assert share(1, 4) == 0.25
