"""Pure tests run with no PostgreSQL reachable; a test that needs a database fails (never
skips) saying how to start it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# Nothing listens on port 1: the server is unreachable, as on a machine without PostgreSQL.
UNREACHABLE = "postgresql://postgres@127.0.0.1:1/x"


def _pytest_without_postgres(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=REPO,
        env={**os.environ, "MRS_TEST_DATABASE_URL": UNREACHABLE},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_rules_tests_pass_with_no_postgresql_reachable() -> None:
    completed = _pytest_without_postgres(
        "tests/reservations/test_rules.py", "tests/accounts/test_rules.py"
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert " passed" in completed.stdout
    assert "error" not in completed.stdout.lower(), completed.stdout


def test_a_database_test_fails_saying_postgresql_is_not_reachable() -> None:
    completed = _pytest_without_postgres(
        "tests/rooms/test_api.py", "-x", "-k", "test_rooms_of_a_day_list_only_rooms_open_that_day"
    )
    assert completed.returncode == 1, completed.stdout + completed.stderr
    assert "1 error" in completed.stdout
    assert "skipped" not in completed.stdout
    assert f"PostgreSQL is not reachable at {UNREACHABLE}" in completed.stdout
    assert "pg_ctlcluster" in completed.stdout
