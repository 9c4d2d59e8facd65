"""Benchmark of the audit row a booking writes (PostgreSQL), the ratio from one run:

    .venv/bin/python loadtest/bench_audit.py --duration 10 --turns 4

POST /api/rooms/{id}/reservations (wrk, 100 connections, as loadtest/bench.py) on two
servers, each on its own database seeded alike (loadtest.harness), measured in
alternating turns (loadtest.bench.alternate):

  not audited   the code before bookings were audited (`--baseline`): the booking's one
                statement inserts the reservation and its `reservation_change` row
  audited       this code: the same statement also inserts the `audit_log` row (request
                id and client address bound as parameters)      ÷ not audited, target ≥ 0.90

The baseline server runs the baseline commit's `src` first on PYTHONPATH, in the same
virtual environment (loadtest.bench_mail.baseline_source). At the end the audit rows of
each database are counted: the audited one has one per reservation, the baseline none.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `loadtest` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg

from loadtest import harness
from loadtest.bench import WRITE_DAYS, Measure, alternate, day_file, ratio, server_with_tokens
from loadtest.bench_mail import baseline_source

# The last commit before bookings were audited.
BASELINE = "6209e7e"
TARGET = 0.9
WITHOUT = "not audited"
AUDITED = "audited"


def bookings_and_audit_rows(url: str) -> tuple[int, int]:
    with psycopg.connect(harness._conninfo(url)) as conn:
        booked = conn.execute("SELECT count(*) FROM reservation").fetchone()
        audited = conn.execute(
            "SELECT count(*) FROM audit_log WHERE action = 'reservation.create'"
        ).fetchone()
        return (int(booked[0]) if booked else 0, int(audited[0]) if audited else 0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk turn")
    parser.add_argument("--turns", type=int, default=4, help="alternating turns per side")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--connections", type=int, default=100, help="wrk connections")
    parser.add_argument("--logins", type=int, default=20, help="users whose tokens are used")
    parser.add_argument("--baseline", default=BASELINE, help="git commit without the audit")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="mrs-bench-audit-") as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        source = baseline_source(args.baseline, workdir / "baseline")
        env = {WITHOUT: {"PYTHONPATH": str(source)}, AUDITED: {}}
        urls = {
            label: stack.enter_context(harness.throwaway_postgres(f"mrs_bench_audit_{index}"))
            for index, label in enumerate(env)
        }
        datasets = {
            label: harness.seed(url, workdir / label, rooms=50, users=100, days=WRITE_DAYS)
            for label, url in urls.items()
        }
        write_days = day_file(workdir, "write-days.txt", datasets[AUDITED].days)
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
        for label, url in urls.items():
            booked, rows = bookings_and_audit_rows(url)
            print(f"  {label}: {booked:,} reservations, {rows:,} reservation.create audit rows")
        print(ratio(f"reserve, {AUDITED} ÷ not", measured[AUDITED], measured[WITHOUT], TARGET))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
