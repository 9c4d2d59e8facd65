"""Backups and the data directory are private to the service's user, whatever the umask."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from mrs.ops import service
from mrs.settings import Settings


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(params=[0o022, 0o000], ids=["umask022", "umask000"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    old = os.umask(request.param)
    try:
        yield int(request.param)
    finally:
        os.umask(old)


@pytest.mark.parametrize("dialect", ["postgresql", "sqlite"])
def test_backups_manifests_and_directories_are_private(
    umask: int, dialect: str, pg_settings: Settings, sqlite_settings: Settings
) -> None:
    settings = pg_settings if dialect == "postgresql" else sqlite_settings

    made = service.run_backup(settings).backup  # create, verify (rewrites the manifest), prune

    assert _mode(settings.effective_backup_dir) == 0o700
    assert _mode(made.path) == 0o600
    assert _mode(made.manifest_path) == 0o600
    assert all(_mode(p) == 0o600 for p in settings.effective_backup_dir.iterdir())


def test_the_data_directory_and_secret_key_are_private(umask: int, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "new" / "data")

    key = settings.effective_secret_key

    assert len(key) >= 32
    assert _mode(settings.data_dir) == 0o700
    assert _mode(settings.data_dir / "secret_key") == 0o600


def test_an_existing_open_data_directory_is_tightened(umask: int, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    data.chmod(0o755)

    Settings(data_dir=data).ensure_data_dir()

    assert _mode(data) == 0o700
