"""Benchmark of reservation mail on PostgreSQL (mail is never sent in the request), the
ratios from one run:

    .venv/bin/python loadtest/bench_mail.py --duration 10

POST /api/rooms/{id}/reservations (wrk, 100 connections, as loadtest/bench.py) on three
servers, each on its own database seeded alike (loadtest.harness), measured in
alternating turns (loadtest.bench.alternate):

  no mail               the code before the calendars' groundwork (`--baseline`): nothing
                        recorded, no invitation job
  changes recorded      this code, the invitation job paused (it runs once at the start,
                        then every hour): the request's own cost, one more row written
                        in the booking's statement            ÷ no mail, target ≥ 0.90
  recorded and mailed   this code with the job at its default interval (5 s) in every
                        worker, rendering mail (text, HTML, iCalendar) from the changes
                        on the same two cores                 ÷ no mail, target ≥ 0.90

The baseline server runs the baseline commit's `src` (extracted with `git archive`, plus
this tree's newer migrations so that it accepts the schema) first on PYTHONPATH, in the
same virtual environment. At the end the changes the job has not mailed yet are counted.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tarfile
import tempfile
from contextlib import ExitStack
from io import BytesIO
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `loadtest` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg

from loadtest import harness
from loadtest.bench import WRITE_DAYS, Measure, alternate, day_file, ratio, server_with_tokens

ROOT = Path(__file__).resolve().parents[1]
# The last commit before the calendars' groundwork: no change recorded, no mail job. (Its
# successors up to the recording lost the fast path's booking: their hot insert bound a
# Python default for `ical_uid` that the fast path never sends.)
BASELINE = "5e6fb30"
TARGET = 0.9
WITHOUT = "no mail"
RECORDED = "changes recorded"
MAILING = "recorded and mailed"


def baseline_source(ref: str, directory: Path) -> Path:
    """The `src` directory of commit `ref`, extracted into `directory`, with this tree's
    migrations added, so it starts on the schema the benchmark creates (their columns
    all have database defaults, and the old code never names them)."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", ref, "src"],
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(directory, filter="data")
    versions = Path("src/mrs/db/migrations/versions")
    for migration in (ROOT / versions).glob("0*.py"):
        target = directory / versions / migration.name
        if not target.exists():
            shutil.copyfile(migration, target)
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
            count("SELECT count(*) FROM mail_outbox"),
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
    lines: list[str] = []
    with tempfile.TemporaryDirectory(prefix="mrs-bench-mail-") as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        source = baseline_source(args.baseline, workdir / "baseline")
        env = {
            WITHOUT: {"PYTHONPATH": str(source)},
            # The job runs once at the start, then waits an hour: the request's cost alone.
            RECORDED: {"MRS_CALENDAR_MAIL_INTERVAL_SECONDS": "3600"},
            # The job at its default interval in every worker, sharing the CPU.
            MAILING: {},
        }
        urls = {
            label: stack.enter_context(harness.throwaway_postgres(f"mrs_bench_mail_{index}"))
            for index, label in enumerate(env)
        }
        datasets = {
            label: harness.seed(url, workdir / label, rooms=50, users=100, days=WRITE_DAYS)
            for label, url in urls.items()
        }
        write_days = day_file(workdir, "write-days.txt", datasets[MAILING].days)
        servers = {}
        for label, url in urls.items():
            # No backup (nor its restore drill) starting in the middle of a turn on one side.
            quiet = {"MRS_BACKUP_ENABLED": "false", **env[label]}
            options = harness.ServerOptions(
                database_url=url, data_dir=workdir / label, workers=args.workers, env=quiet
            )
            servers[label] = stack.enter_context(
                server_with_tokens(options, datasets[label], workdir / label, args.logins)
            )
        measured: dict[str, Measure] = alternate(
            servers,
            "reserve",
            days=write_days,
            connections=args.connections,
            seconds=args.duration,
            rounds=args.turns,
        )
        for label, measure in measured.items():
            print(f"  reserve {label}: {measure.rate:,.1f}/s  {measure.detail}")
            failed = sum(n for status, n in measure.statuses.items() if status >= 500)
            if failed:  # a rate of errors is no throughput
                raise SystemExit(f"{label}: {failed} answers were 5xx (see its log)")
        booked, pending, mails = changes_and_mail(urls[MAILING])
        print(
            f"  {MAILING}: {booked:,} reservations, {mails:,} mails queued (the outbox's cap "
            f"per recipient drops the rest), {pending:,} changes not yet mailed at the end"
        )
        assert changes_and_mail(urls[WITHOUT])[1] == 0  # the baseline records nothing
        lines.append(
            ratio(f"reserve, {RECORDED} ÷ none", measured[RECORDED], measured[WITHOUT], TARGET)
        )
        lines.append(
            ratio(f"reserve, {MAILING} ÷ none", measured[MAILING], measured[WITHOUT], TARGET)
        )
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
