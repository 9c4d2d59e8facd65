"""Settings: sensible defaults, refused nonsense, a secret key kept safe."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from mrs.settings import Settings


def test_defaults(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert settings.slot_minutes == 30
    assert settings.timezone == "Asia/Tokyo"
    assert settings.effective_database_url == f"sqlite:///{tmp_path / 'mrs.sqlite3'}"


def test_fifteen_minute_slots_are_allowed(tmp_path: Path) -> None:
    assert Settings(data_dir=tmp_path, slot_minutes=15).slot_minutes == 15


@pytest.mark.parametrize("minutes", [0, 7, 25, -30, 2000])
def test_slot_lengths_that_do_not_divide_the_day_are_refused(tmp_path: Path, minutes: int) -> None:
    with pytest.raises(ValidationError):
        Settings(data_dir=tmp_path, slot_minutes=minutes)


def test_unknown_time_zones_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError):
        Settings(data_dir=tmp_path, timezone="Mars/Olympus")


def test_the_generated_secret_key_is_persisted_privately(tmp_path: Path) -> None:
    first = Settings(data_dir=tmp_path).effective_secret_key
    second = Settings(data_dir=tmp_path).effective_secret_key
    assert first == second
    assert len(first) >= 48
    mode = stat.S_IMODE((tmp_path / "secret_key").stat().st_mode)
    assert mode == 0o600


def test_a_configured_secret_key_wins(tmp_path: Path) -> None:
    assert Settings(data_dir=tmp_path, secret_key="k" * 40).effective_secret_key == "k" * 40
    assert not (tmp_path / "secret_key").exists()
