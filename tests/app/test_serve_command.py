"""`mrs serve`'s own messages: demo logins only while they work, a busy port named before
anything claims to run, and defaults in `--help`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import update
from typer.testing import CliRunner

from mrs.accounts.models import User
from mrs.accounts.passwords import hash_password
from mrs.cli import app
from mrs.db.engine import make_sync_engine, sync_transaction
from mrs.db.migrate import upgrade
from mrs.demo import load_demo_data, working_demo_logins
from mrs.settings import Settings
from tests import support


def _sqlite_settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=f"sqlite:///{tmp_path / 'd.db'}")


def test_help_shows_the_defaults() -> None:
    result = CliRunner().invoke(app, ["serve", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for default in ("127.0.0.1", "8000", "8443", "8080", "MRS_WORKERS"):
        assert default in result.output
    assert result.output.count("default:") >= 4


def test_only_demo_logins_that_still_work_are_listed(tmp_path: Path) -> None:
    settings = _sqlite_settings(tmp_path)
    engine = make_sync_engine(settings)
    try:
        upgrade(engine)
        assert working_demo_logins(engine) == []
        assert load_demo_data(engine, settings, now=datetime.now(UTC))
        assert [login.user_id for login in working_demo_logins(engine)] == [
            "admin",
            "alice",
            "bob",
        ]
        with sync_transaction(engine) as session:
            session.execute(
                update(User)
                .where(User.user_id == "admin")
                .values(password_hash=hash_password("a-new-and-private-password"))
            )
        assert [login.user_id for login in working_demo_logins(engine)] == ["alice", "bob"]
    finally:
        engine.dispose()


def test_serve_demo_does_not_print_a_changed_demo_password(tmp_path: Path) -> None:
    settings = _sqlite_settings(tmp_path)
    engine = make_sync_engine(settings)
    try:
        upgrade(engine)
        load_demo_data(engine, settings, now=datetime.now(UTC))
        with sync_transaction(engine) as session:
            session.execute(
                update(User)
                .where(User.user_id == "admin")
                .values(password_hash=hash_password("a-new-and-private-password"))
            )
    finally:
        engine.dispose()
    with support.running_server(
        database_url=settings.effective_database_url,
        data_dir=tmp_path / "srv",
        args=["--demo"],
        startup_timeout=120,
    ) as server:
        pass
    log = server.log()
    assert "already has users" in log
    assert "user id: alice" in log
    assert "user id: admin" not in log
    assert "orange-meeting-42" not in log


def test_a_busy_port_is_named_before_claiming_to_run(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        completed = subprocess.run(
            [sys.executable, "-m", "mrs", "serve", "--port", str(port)],
            env={
                **os.environ,
                "MRS_DATA_DIR": str(tmp_path / "data"),
                "MRS_DATABASE_URL": f"sqlite:///{tmp_path / 'busy.db'}",
            },
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert completed.returncode != 0
    assert "MRS is running" not in completed.stdout
    assert f"port {port} on 127.0.0.1 is already in use" in completed.stderr
    assert "--port" in completed.stderr
