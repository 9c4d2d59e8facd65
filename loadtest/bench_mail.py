"""Benchmark of reservation mail on PostgreSQL (issue 16: mail is never sent in the
request), the ratio from one run:

    .venv/bin/python loadtest/bench_mail.py --duration 10

  reserve with mail ÷ without   POST /api/rooms/{id}/reservations (wrk, as loadtest/bench.py)
                                on this code (each booking records its change in the same
                                statement, and the invitation job turns the changes into
                                mail with an iCalendar part in the background, every
                                second) ÷ the same on the code before changes were
                                recorded (`--baseline`, default the commit that laid the
                                calendars' tables down): target ≥ 0.90

Two databases seeded alike by loadtest.harness, both servers up at once and measured in
alternating turns (loadtest.bench.alternate). The baseline server runs the baseline
commit's `src` (extracted with `git archive`) first on PYTHONPATH, in the same virtual
environment, against the same schema. After the run the changes left unmailed on the
"with mail" side are counted: the job must keep up, or the mail would only be late.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `loadtest` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg

from loadtest import harness
from loadtest.bench import WRITE_DAYS, Measure, alternate, day_file, ratio, server_with_tokens

ROOT = Path(__file__).resolve().parents[1]
# Migration 0013 and its models, before any use case recorded its changes.
BASELINE = "c070c20"
TARGET = 0.9


def baseline_source(ref: str, directory: Path) -> Path:
    """The `src` directory of commit `ref`, extracted into `directory`."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", ref, "src"],
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(directory, filter="data")
    return directory / "src"


def changes_and_mail(url: str) -> tuple[int, int, int]:
    """Reservations, recorded changes still unmailed, and outbox rows in the database."""
    with psycopg.connect(harness._conninfo(url)) as conn:

        def count(sql: str) -> int:
            row = conn.execute(sql).fetchone()
            return int(row[0]) if row else 0

        return (
            count("SELECT count(*) FROM reservation"),
            count("SELECT count(*) FROM reservation_change WHERE notified_at IS NULL"),
            count("SELECT count(*) FROM outbox_mail"),
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk turn")
    parser.add_argument("--turns", type=int, default=4, help="alternating turns per side")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--connections", type=int, default=100, help="wrk connections")
    parser.add_argument("--logins", type=int, default=20, help="users whose tokens are used")
    parser.add_argument("--baseline", default=BASELINE, help="git commit without recording")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="mrs-bench-mail-") as tmp:
        workdir = Path(tmp)
        source = baseline_source(args.baseline, workdir / "baseline")
        with (
            harness.throwaway_postgres("mrs_bench_nomail") as plain,
            harness.throwaway_postgres("mrs_bench_mail") as mailing,
        ):
            urls = {"without mail": plain, "with mail": mailing}
            datasets = {
                label: harness.seed(url, workdir / label, rooms=50, users=100, days=WRITE_DAYS)
                for label, url in urls.items()
            }
            write_days = day_file(workdir, "write-days.txt", datasets["with mail"].days)
            env = {
                "without mail": {"PYTHONPATH": str(source)},
                # The job every second (default 5 s): more rounds, each with less to do.
                "with mail": {"MRS_CALENDAR_MAIL_INTERVAL_SECONDS": "1"},
            }
            options = {
                label: harness.ServerOptions(
                    database_url=url,
                    data_dir=workdir / label,
                    workers=args.workers,
                    env=env[label],
                )
                for label, url in urls.items()
            }
            with (
                server_with_tokens(
                    options["without mail"],
                    datasets["without mail"],
                    workdir / "without mail",
                    args.logins,
                ) as plain_server,
                server_with_tokens(
                    options["with mail"], datasets["with mail"], workdir / "with mail", args.logins
                ) as mail_server,
            ):
                measured: dict[str, Measure] = alternate(
                    {"without mail": plain_server, "with mail": mail_server},
                    "reserve",
                    days=write_days,
                    connections=args.connections,
                    seconds=args.duration,
                    rounds=args.turns,
                )
                for label, measure in measured.items():
                    print(f"  reserve {label}: {measure.rate:,.1f}/s  {measure.detail}")
                # Let the job drain what the last turn left, boundedly.
                for _ in range(60):
                    booked, pending, mails = changes_and_mail(mailing)
                    if pending == 0:
                        break
                    time.sleep(1)
                print(
                    f"  with mail: {booked:,} reservations, {mails:,} mails queued, "
                    f"{pending:,} changes still unmailed"
                )
                _, unrecorded_pending, _ = changes_and_mail(plain)
                assert unrecorded_pending == 0  # the baseline really records nothing
    print(
        ratio(
            "reserve, with mail ÷ without", measured["with mail"], measured["without mail"], TARGET
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
