"""Recurrence rules of a series, read, expanded and described without a database."""

from __future__ import annotations

from datetime import date

import pytest

from mrs.errors import DomainError
from mrs.reservations import recurrence
from mrs.reservations.errors import (
    InvalidRule,
    NoOccurrences,
    RuleWithoutEnd,
    SeriesTooLong,
    TooManyOccurrences,
)
from mrs.reservations.recurrence import (
    DayOfWeek,
    Frequency,
    RecurrenceRule,
    describe,
    occurrence_dates,
    parse_rule,
)

HORIZON = 730
CAP = 500
TUESDAY, FRIDAY = 1, 4


def dates(rule: str, first: date, *, horizon: int = HORIZON, cap: int = CAP) -> list[date]:
    return occurrence_dates(parse_rule(rule), first, horizon_days=horizon, max_occurrences=cap)


# --- expansion ---


def test_monthly_on_the_31st_skips_the_months_without_one() -> None:
    found = dates("FREQ=MONTHLY;BYMONTHDAY=31;UNTIL=20270831", date(2027, 1, 31))
    assert found == [
        date(2027, 1, 31),
        date(2027, 3, 31),
        date(2027, 5, 31),
        date(2027, 7, 31),
        date(2027, 8, 31),
    ]


def test_monthly_on_the_last_day_follows_each_months_length() -> None:
    found = dates("FREQ=MONTHLY;BYMONTHDAY=-1;COUNT=5", date(2027, 12, 1))
    assert found == [
        date(2027, 12, 31),
        date(2028, 1, 31),
        date(2028, 2, 29),
        date(2028, 3, 31),
        date(2028, 4, 30),
    ]


def test_a_fifth_tuesday_falls_only_in_months_that_have_one() -> None:
    found = dates("FREQ=MONTHLY;BYDAY=5TU;UNTIL=20271231", date(2027, 1, 1))
    assert found == [date(2027, 3, 30), date(2027, 6, 29), date(2027, 8, 31), date(2027, 11, 30)]
    assert all(day.weekday() == TUESDAY and day.day > 28 for day in found)


def test_the_last_friday_of_each_month() -> None:
    found = dates("FREQ=MONTHLY;BYDAY=-1FR;COUNT=4", date(2027, 1, 1))
    assert found == [date(2027, 1, 29), date(2027, 2, 26), date(2027, 3, 26), date(2027, 4, 30)]


def test_the_second_tuesday_of_every_other_month() -> None:
    found = dates("FREQ=MONTHLY;INTERVAL=2;BYDAY=2TU;COUNT=3", date(2027, 1, 1))
    assert found == [date(2027, 1, 12), date(2027, 3, 9), date(2027, 5, 11)]


def test_monthly_on_the_29th_skips_february_outside_leap_years() -> None:
    found = dates("FREQ=MONTHLY;BYMONTHDAY=29;UNTIL=20290401", date(2028, 1, 29))
    assert date(2028, 2, 29) in found
    assert all(day.month != 2 for day in found if day.year == 2029)
    assert len(found) == 14  # Jan 2028 to Mar 2029 is 15 months, less February 2029


def test_every_twelve_months_from_a_leap_day_lands_only_on_leap_days() -> None:
    found = dates("FREQ=MONTHLY;INTERVAL=12;COUNT=2", date(2028, 2, 29), horizon=3000)
    assert found == [date(2028, 2, 29), date(2032, 2, 29)]


def test_until_is_inclusive_when_the_date_fits() -> None:
    found = dates("FREQ=WEEKLY;BYDAY=TU;UNTIL=20270330", date(2027, 3, 2))
    assert found[-1] == date(2027, 3, 30)
    assert len(found) == 5


def test_until_as_a_date_time_counts_its_date() -> None:
    as_date = dates("FREQ=DAILY;UNTIL=20270305", date(2027, 3, 1))
    as_time = dates("FREQ=DAILY;UNTIL=20270305T235959Z", date(2027, 3, 1))
    assert as_time == as_date
    assert as_time[-1] == date(2027, 3, 5)
    assert parse_rule("FREQ=DAILY;UNTIL=20270305T000000").until == date(2027, 3, 5)


def test_count_gives_exactly_that_many_dates() -> None:
    found = dates("FREQ=DAILY;COUNT=7", date(2027, 3, 1))
    assert found == [date(2027, 3, day) for day in range(1, 8)]


def test_interval_skips_periods() -> None:
    assert dates("FREQ=DAILY;INTERVAL=3;COUNT=3", date(2027, 3, 1)) == [
        date(2027, 3, 1),
        date(2027, 3, 4),
        date(2027, 3, 7),
    ]
    assert dates("FREQ=WEEKLY;INTERVAL=2;COUNT=3", date(2027, 3, 2)) == [
        date(2027, 3, 2),
        date(2027, 3, 16),
        date(2027, 3, 30),
    ]


def test_weekly_on_several_days() -> None:
    found = dates("FREQ=WEEKLY;BYDAY=MO,WE,FR;COUNT=6", date(2027, 3, 1))
    assert found == [
        date(2027, 3, 1),
        date(2027, 3, 3),
        date(2027, 3, 5),
        date(2027, 3, 8),
        date(2027, 3, 10),
        date(2027, 3, 12),
    ]


def test_a_first_date_that_does_not_fit_the_rule_is_not_an_occurrence() -> None:
    # 2027-03-03 is a Wednesday; the rule asks for Tuesdays.
    found = dates("FREQ=WEEKLY;BYDAY=TU;COUNT=2", date(2027, 3, 3))
    assert found == [date(2027, 3, 9), date(2027, 3, 16)]


def test_weekly_without_byday_repeats_on_the_first_dates_weekday() -> None:
    found = dates("FREQ=WEEKLY;COUNT=3", date(2027, 3, 3))
    assert found == [date(2027, 3, 3), date(2027, 3, 10), date(2027, 3, 17)]


def test_a_rule_ending_before_the_first_date_gives_no_occurrence() -> None:
    with pytest.raises(NoOccurrences):
        dates("FREQ=WEEKLY;UNTIL=20270301", date(2027, 3, 2))


def test_ended_before_stops_the_day_before_and_drops_count() -> None:
    rule = parse_rule("FREQ=WEEKLY;BYDAY=TU;COUNT=52")
    old_half = rule.ended_before(date(2027, 3, 16))
    assert old_half.count is None
    assert old_half.until == date(2027, 3, 15)
    assert occurrence_dates(
        old_half, date(2027, 3, 2), horizon_days=HORIZON, max_occurrences=CAP
    ) == [
        date(2027, 3, 2),
        date(2027, 3, 9),
    ]


# --- caps (the 422 errors) ---


def test_a_series_reaching_past_the_horizon_is_refused() -> None:
    with pytest.raises(SeriesTooLong) as caught:
        dates("FREQ=WEEKLY;UNTIL=20300101", date(2027, 1, 5), horizon=365)
    assert caught.value.status == 422
    assert "2028-01-05" in str(caught.value)
    assert "365" in str(caught.value)


def test_the_last_date_on_the_horizon_is_still_allowed() -> None:
    found = dates("FREQ=DAILY;COUNT=11", date(2027, 1, 1), horizon=10)
    assert found[-1] == date(2027, 1, 11)
    with pytest.raises(SeriesTooLong):
        dates("FREQ=DAILY;COUNT=12", date(2027, 1, 1), horizon=10)


def test_a_count_above_the_cap_is_refused_before_expanding() -> None:
    with pytest.raises(TooManyOccurrences) as caught:
        dates("FREQ=DAILY;COUNT=99999", date(2027, 1, 1), cap=500)
    assert caught.value.status == 422
    assert "500" in str(caught.value)


def test_an_until_giving_more_dates_than_the_cap_is_refused() -> None:
    assert len(dates("FREQ=DAILY;UNTIL=20270110", date(2027, 1, 1), cap=10)) == 10
    with pytest.raises(TooManyOccurrences):
        dates("FREQ=DAILY;UNTIL=20270111", date(2027, 1, 1), cap=10)


@pytest.mark.parametrize(
    "text",
    [
        "FREQ=MONTHLY;INTERVAL=12;BYMONTHDAY=30;COUNT=1",
        "FREQ=MONTHLY;INTERVAL=24;BYMONTHDAY=-31,30;UNTIL=99991231",
    ],
)
def test_a_rule_that_never_matches_gives_no_occurrence_without_searching(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every twelve months from February, on the 30th: never a date. dateutil would search
    # up to the year 9999 for one (a fifth of a second of CPU); the rule is refused at once.
    monkeypatch.setattr(recurrence.rrule, "rrule", _no_search)
    with pytest.raises(NoOccurrences):
        dates(text, date(2027, 2, 1))


def _no_search(*args: object, **kwargs: object) -> None:
    raise AssertionError("searched for dates")


def test_twelve_monthly_from_a_month_that_has_the_day_still_expands() -> None:
    assert dates("FREQ=MONTHLY;INTERVAL=12;BYMONTHDAY=30;COUNT=2", date(2027, 4, 1)) == [
        date(2027, 4, 30),
        date(2028, 4, 30),
    ]


def test_a_first_date_near_the_end_of_the_calendar_is_not_a_crash() -> None:
    assert dates("FREQ=DAILY;COUNT=2", date(9999, 12, 1)) == [date(9999, 12, 1), date(9999, 12, 2)]


# --- parsing ---


@pytest.mark.parametrize(
    ("text", "part"),
    [
        ("FREQ=WEEKLY;COUNT=3;WKST=MO", "WKST"),
        ("FREQ=WEEKLY;COUNT=3;BYSETPOS=1", "BYSETPOS"),
        ("FREQ=YEARLY;COUNT=3", "FREQ=YEARLY"),
        ("FREQ=HOURLY;COUNT=3", "FREQ=HOURLY"),
        ("COUNT=3", "FREQ="),
        ("FREQ=WEEKLY;BYDAY=2TU;COUNT=3", "BYDAY=2TU"),
        ("FREQ=DAILY;BYDAY=TU;COUNT=3", "BYDAY"),
        ("FREQ=WEEKLY;BYMONTHDAY=3;COUNT=3", "BYMONTHDAY"),
        ("FREQ=MONTHLY;BYDAY=TU;BYMONTHDAY=3;COUNT=3", "BYDAY"),
        ("FREQ=WEEKLY;UNTIL=20270101;COUNT=3", "UNTIL with COUNT"),
        ("FREQ=WEEKLY;COUNT=0", "COUNT=0"),
        ("FREQ=WEEKLY;COUNT=-1", "COUNT=-1"),
        ("FREQ=WEEKLY;COUNT=x", "COUNT=X"),
        ("FREQ=WEEKLY;COUNT=100000", "COUNT=100000"),
        ("FREQ=WEEKLY;INTERVAL=0;COUNT=3", "INTERVAL=0"),
        ("FREQ=WEEKLY;INTERVAL=100;COUNT=3", "INTERVAL=100"),
        ("FREQ=WEEKLY;INTERVAL=1.5;COUNT=3", "INTERVAL=1.5"),
        ("FREQ=MONTHLY;BYMONTHDAY=0;COUNT=3", "BYMONTHDAY=0"),
        ("FREQ=MONTHLY;BYMONTHDAY=32;COUNT=3", "BYMONTHDAY=32"),
        ("FREQ=MONTHLY;BYMONTHDAY=-32;COUNT=3", "BYMONTHDAY=-32"),
        ("FREQ=MONTHLY;BYDAY=6TU;COUNT=3", "BYDAY=6TU"),
        ("FREQ=MONTHLY;BYDAY=0TU;COUNT=3", "BYDAY=0TU"),
        ("FREQ=WEEKLY;BYDAY=XX;COUNT=3", "BYDAY=XX"),
        ("FREQ=WEEKLY;UNTIL=20270230", "UNTIL=20270230"),
        ("FREQ=WEEKLY;UNTIL=2027-03-01", "UNTIL=2027-03-01"),
        ("FREQ=WEEKLY;COUNT=3;COUNT=4", "COUNT=4"),
        ("FREQ=WEEKLY;COUNT", "COUNT"),
        ("FREQ=WEEKLY;;COUNT=3", ";"),
        ("", "empty"),
        ("   ", "empty"),
    ],
)
def test_refused_forms_name_the_wrong_part(text: str, part: str) -> None:
    with pytest.raises(InvalidRule) as caught:
        parse_rule(text)
    assert caught.value.status == 422
    assert part in str(caught.value)


@pytest.mark.parametrize(
    "text",
    [
        "FREQ=WEEKLY;COUNT=²",
        "FREQ=WEEKLY;INTERVAL=²;COUNT=3",
        "FREQ=MONTHLY;BYMONTHDAY=²;COUNT=3",
        "FREQ=WEEKLY;COUNT=٣",
        "FREQ=WEEKLY;UNTIL=٢٠٢٧٠٣٠١",
    ],
)
def test_digits_other_than_ascii_are_refused_not_a_crash(text: str) -> None:
    with pytest.raises(InvalidRule):
        parse_rule(text)


def test_a_rule_without_an_end_is_refused() -> None:
    with pytest.raises(RuleWithoutEnd) as caught:
        parse_rule("FREQ=WEEKLY;BYDAY=TU")
    assert caught.value.status == 422


def test_an_overlong_rule_is_refused_without_reading_it() -> None:
    text = "FREQ=WEEKLY;COUNT=3;BYDAY=" + ",".join(["TU"] * 200)
    with pytest.raises(InvalidRule):
        parse_rule(text)


def test_every_refusal_is_a_client_error() -> None:
    for text in ["FREQ=YEARLY;COUNT=1", "FREQ=WEEKLY", "x" * 600, "FREQ=WEEKLY;COUNT=2;FOO=1"]:
        with pytest.raises(DomainError) as caught:
            parse_rule(text)
        assert caught.value.status == 422, text


def test_prefix_case_and_spaces_are_accepted() -> None:
    assert parse_rule("  rrule:freq=weekly;byday=tu;count=3 ") == RecurrenceRule(
        Frequency.WEEKLY, by_day=(DayOfWeek(TUESDAY),), count=3
    )


def test_a_plus_sign_on_an_ordinal_is_the_same_rule() -> None:
    assert parse_rule("FREQ=MONTHLY;BYDAY=+2TU;COUNT=3") == parse_rule(
        "FREQ=MONTHLY;BYDAY=2TU;COUNT=3"
    )


@pytest.mark.parametrize(
    "text",
    [
        "FREQ=DAILY;COUNT=10",
        "FREQ=DAILY;INTERVAL=3;UNTIL=20271231",
        "FREQ=WEEKLY;BYDAY=TU;UNTIL=20270331",
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE,FR;COUNT=20",
        "FREQ=MONTHLY;BYMONTHDAY=31;COUNT=12",
        "FREQ=MONTHLY;BYMONTHDAY=-1,15;COUNT=12",
        "FREQ=MONTHLY;BYDAY=2TU;UNTIL=20280101",
        "FREQ=MONTHLY;BYDAY=-1FR,1MO;COUNT=6",
        "FREQ=MONTHLY;INTERVAL=12;COUNT=2",
    ],
)
def test_canonical_text_reads_back_as_the_same_rule(text: str) -> None:
    rule = parse_rule(text)
    assert parse_rule(rule.text()) == rule
    assert rule.text() == parse_rule(rule.text()).text()


def test_canonical_text_does_not_depend_on_the_order_written() -> None:
    one = parse_rule("COUNT=4;BYDAY=FR,MO;FREQ=WEEKLY;INTERVAL=1")
    other = parse_rule("FREQ=WEEKLY;BYDAY=MO,FR,MO;COUNT=4")
    assert one == other
    assert one.text() == "FREQ=WEEKLY;BYDAY=MO,FR;COUNT=4"


def test_until_as_a_date_time_is_written_back_as_a_date() -> None:
    assert parse_rule("FREQ=DAILY;UNTIL=20270305T120000Z").text() == "FREQ=DAILY;UNTIL=20270305"


# --- in words ---

TEN, ELEVEN = 600, 660
# 2027-03-02 is a Tuesday.
FIRST = date(2027, 3, 2)


@pytest.mark.parametrize(
    ("text", "ja", "en"),
    [
        (
            "FREQ=DAILY;COUNT=10",
            "毎日 10:00–11:00、10回",
            "Every day, 10:00–11:00, 10 times",
        ),
        (
            "FREQ=DAILY;INTERVAL=2;COUNT=1",
            "2日ごと 10:00–11:00、1回",
            "Every 2 days, 10:00–11:00, 1 time",
        ),
        (
            "FREQ=WEEKLY;BYDAY=TU;UNTIL=20270331",
            "毎週火曜日 10:00–11:00、2027年3月31日(水)まで",
            "Every Tuesday, 10:00–11:00, until Wed 31 Mar 2027",
        ),
        (
            "FREQ=WEEKLY;UNTIL=20270331",
            "毎週火曜日 10:00–11:00、2027年3月31日(水)まで",
            "Every Tuesday, 10:00–11:00, until Wed 31 Mar 2027",
        ),
        (
            "FREQ=WEEKLY;BYDAY=MO,WE,FR;COUNT=12",
            "毎週月曜日・水曜日・金曜日 10:00–11:00、12回",
            "Every Monday, Wednesday and Friday, 10:00–11:00, 12 times",
        ),
        (
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;COUNT=6",
            "2週間ごとの火曜日 10:00–11:00、6回",
            "Every 2 weeks on Tuesday, 10:00–11:00, 6 times",
        ),
        (
            "FREQ=MONTHLY;BYMONTHDAY=15;UNTIL=20271215",
            "毎月15日 10:00–11:00、2027年12月15日(水)まで",
            "Every month on the 15th, 10:00–11:00, until Wed 15 Dec 2027",
        ),
        (
            "FREQ=MONTHLY;COUNT=3",
            "毎月2日 10:00–11:00、3回",
            "Every month on the 2nd, 10:00–11:00, 3 times",
        ),
        (
            "FREQ=MONTHLY;BYMONTHDAY=-1;COUNT=3",
            "毎月末日 10:00–11:00、3回",
            "Every month on the last day, 10:00–11:00, 3 times",
        ),
        (
            "FREQ=MONTHLY;BYDAY=2TU;COUNT=5",
            "毎月第2火曜日 10:00–11:00、5回",
            "Every month on the second Tuesday, 10:00–11:00, 5 times",
        ),
        (
            "FREQ=MONTHLY;BYDAY=-1FR;UNTIL=20271231",
            "毎月最終金曜日 10:00–11:00、2027年12月31日(金)まで",
            "Every month on the last Friday, 10:00–11:00, until Fri 31 Dec 2027",
        ),
        (
            "FREQ=MONTHLY;INTERVAL=3;BYDAY=1MO;COUNT=4",
            "3か月ごとの第1月曜日 10:00–11:00、4回",
            "Every 3 months on the first Monday, 10:00–11:00, 4 times",
        ),
        (
            "FREQ=MONTHLY;BYDAY=-2TH;COUNT=4",
            "毎月最後から2番目の木曜日 10:00–11:00、4回",
            "Every month on the second-to-last Thursday, 10:00–11:00, 4 times",
        ),
    ],
)
def test_describe_in_japanese_and_english(text: str, ja: str, en: str) -> None:
    rule = parse_rule(text)
    assert describe(rule, FIRST, TEN, ELEVEN, "ja") == ja
    assert describe(rule, FIRST, TEN, ELEVEN, "en") == en


def test_describe_shows_the_series_own_times() -> None:
    rule = parse_rule("FREQ=DAILY;COUNT=2")
    assert "09:30–17:00" in describe(rule, FIRST, 570, 1020, "en")
    assert "00:00–24:00" in describe(rule, FIRST, 0, 1440, "ja")


def test_describe_names_weekly_days_from_the_first_date_when_the_rule_has_none() -> None:
    rule = RecurrenceRule(Frequency.WEEKLY, count=2)
    assert describe(rule, date(2027, 3, 5), TEN, ELEVEN, "en").startswith("Every Friday,")
    assert describe(rule, date(2027, 3, 5), TEN, ELEVEN, "ja").startswith("毎週金曜日 ")
    assert DayOfWeek(FRIDAY).text() == "FR"
