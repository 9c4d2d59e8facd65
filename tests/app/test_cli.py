"""The `mrs` command line: migrate, create users, load demo data, fail in one line."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from mrs.cli import app
from tests.support import free_port

runner = CliRunner()


def _env(tmp_path: Path, database_url: str, **extra: str) -> dict[str, str]:
    return {"MRS_DATA_DIR": str(tmp_path / "data"), "MRS_DATABASE_URL": database_url, **extra}


def test_db_upgrade_is_idempotent(tmp_path: Path) -> None:
    env = _env(tmp_path, f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    for _ in range(2):
        result = runner.invoke(app, ["db", "upgrade"], env=env)
        assert result.exit_code == 0, result.output
        assert "up to date" in result.output


def test_user_create_takes_the_password_from_the_environment(
    tmp_path: Path, database_url: str
) -> None:
    env = _env(tmp_path, database_url, MRS_PASSWORD="a-long-enough-password")
    args = [
        "user",
        "create",
        "Grace",
        "--email",
        "grace@example.com",
        "--first-name",
        "Grace",
        "--last-name",
        "Hopper",
        "--role",
        "admin",
    ]
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    assert "user grace created (ADMIN)" in result.output
    again = runner.invoke(app, args, env=env)
    assert again.exit_code == 1
    assert "error: The user ID grace is already taken." in again.output


def test_user_create_refuses_a_bad_role(tmp_path: Path) -> None:
    env = _env(
        tmp_path, f"sqlite:///{tmp_path / 'cli.sqlite3'}", MRS_PASSWORD="a-long-enough-password"
    )
    result = runner.invoke(
        app,
        [
            "user",
            "create",
            "x1",
            "--email",
            "x@example.com",
            "--first-name",
            "X",
            "--last-name",
            "Y",
            "--role",
            "root",
        ],
        env=env,
    )
    assert result.exit_code == 2
    assert "--role must be ADMIN or USER" in result.output


def test_demo_loads_once_and_prints_the_logins(tmp_path: Path) -> None:
    env = _env(tmp_path, f"sqlite:///{tmp_path / 'demo.sqlite3'}")
    first = runner.invoke(app, ["demo"], env=env)
    assert first.exit_code == 0, first.output
    assert "admin" in first.output
    assert "password:" in first.output
    second = runner.invoke(app, ["demo"], env=env)
    assert "already has users" in second.output


def test_an_unreachable_database_is_one_clear_line(tmp_path: Path) -> None:
    port = free_port()
    env = _env(tmp_path, f"postgresql+psycopg://postgres@127.0.0.1:{port}/nope")
    result = runner.invoke(app, ["db", "upgrade"], env=env)
    assert result.exit_code == 1
    assert "cannot reach the database" in result.output
    assert "Traceback" not in result.output


def test_invalid_settings_are_reported(tmp_path: Path) -> None:
    env = _env(tmp_path, f"sqlite:///{tmp_path / 'x.sqlite3'}", MRS_SLOT_MINUTES="7")
    result = runner.invoke(app, ["db", "upgrade"], env=env)
    assert result.exit_code == 2
    assert "invalid settings" in result.output
