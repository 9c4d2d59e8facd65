"""Parsing dates and times at the edge."""

from __future__ import annotations

from datetime import date

import pytest

from mrs.http.types import parse_hour_minute, parse_iso_date
from mrs.i18n import negotiate_locale, translate
from mrs.rooms.errors import DateRangeInvalid
from mrs.rooms.rules import dates_in_range


@pytest.mark.parametrize(("text", "minutes"), [("00:00", 0), ("10:30", 630), ("24:00", 1440)])
def test_valid_times(text: str, minutes: int) -> None:
    assert parse_hour_minute(text) == minutes


@pytest.mark.parametrize(
    "text", ["25:00", "24:30", "10:60", "9:00", "10:00:00", "", "ten", 600, None]
)
def test_invalid_times(text: object) -> None:
    with pytest.raises(ValueError, match="time"):
        parse_hour_minute(text)


@pytest.mark.parametrize(
    "text",
    [
        "１０:００",  # full-width digits
        "\u0661\u0660:\u0663\u0660",  # Arabic-Indic digits
        "\u0967\u0966:\u0966\u0966",  # Devanagari digits
        "10:00\n",
        "10:00\r\n",
        " 10:00",
    ],
)
def test_times_are_ascii_digits_matched_in_full(text: str) -> None:
    with pytest.raises(ValueError, match="HH:MM"):
        parse_hour_minute(text)


@pytest.mark.parametrize(
    "text", ["２０２７-０３-１４", "\u0662\u0660\u0662\u0667-03-14", "2027-03-14\n", "2027-03-14 "]
)
def test_dates_are_ascii_digits_matched_in_full(text: str) -> None:
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        parse_iso_date(text)


def test_valid_date() -> None:
    assert parse_iso_date("2028-02-29") == date(2028, 2, 29)


@pytest.mark.parametrize(
    "text", ["2025-02-30", "2025-13-01", "2025-1-1", "20250101", "x", 20250101]
)
def test_invalid_dates(text: object) -> None:
    with pytest.raises(ValueError, match="date"):
        parse_iso_date(text)


def test_dates_in_range_by_weekday() -> None:
    days = dates_in_range(date(2030, 1, 7), date(2030, 1, 20), [1, 3])
    assert days == [date(2030, 1, 7), date(2030, 1, 9), date(2030, 1, 14), date(2030, 1, 16)]


@pytest.mark.parametrize(
    ("start", "end"), [(date(2030, 1, 8), date(2030, 1, 7)), (date(2030, 1, 1), date(2031, 1, 3))]
)
def test_date_ranges_must_run_forwards_and_be_bounded(start: date, end: date) -> None:
    with pytest.raises(DateRangeInvalid):
        dates_in_range(start, end, None)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("ja,en;q=0.8", "ja"),
        ("en-US,en;q=0.9,ja;q=0.8", "en"),
        ("fr, ja;q=0.5", "ja"),
        ("fr", "en"),
        (None, "en"),
        ("ja;q=0", "en"),
    ],
)
def test_locale_negotiation(header: str | None, expected: str) -> None:
    assert negotiate_locale(header) == expected


def test_an_explicit_choice_wins_over_the_header() -> None:
    assert negotiate_locale("ja", preferred="en") == "en"


def test_japanese_translation_fills_fields() -> None:
    text = translate(
        "ja", "Room {room_id} cannot be reserved on {date}.", room_id=3, date="2030-01-07"
    )
    assert "3" in text
    assert "2030-01-07" in text
    assert text != "Room 3 cannot be reserved on 2030-01-07."
