"""The `./dev` entry point: a failing test run still reports coverage, then fails."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_dev_test_reports_coverage_when_a_test_fails(tmp_path: Path) -> None:
    failing = tmp_path / "test_failing.py"
    failing.write_text("import mrs.settings\n\n\ndef test_fails() -> None:\n    assert 1 == 2\n")
    env = {
        **os.environ,
        # The run's own coverage file, so it cannot clobber that of a surrounding `./dev test`.
        "COVERAGE_FILE": str(tmp_path / ".coverage"),
        # A test database URL is taken as given: this run needs no PostgreSQL.
        "MRS_TEST_DATABASE_URL": os.environ.get(
            "MRS_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
        ),
    }
    completed = subprocess.run(
        [str(REPO / "dev"), "test", str(failing), "-q", "-p", "no:cacheprovider"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert "1 failed" in completed.stdout, completed.stdout + completed.stderr
    assert "TOTAL" in completed.stdout, completed.stdout + completed.stderr
    assert completed.returncode == 1
