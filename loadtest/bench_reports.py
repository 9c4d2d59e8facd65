"""Benchmark of the reports on PostgreSQL, figures from one run:

    .venv/bin/python loadtest/bench_reports.py

  the reports page            GET /admin/reports?from=…&to=… for the whole year: every
                              report (per room, busiest hours, per group)   target ≤ 500 ms
  utilisation per room        GET /api/admin/reports/utilisation, the year  target ≤ 500 ms
  utilisation per group       GET /api/admin/reports/groups, the year       target ≤ 500 ms

The data: 1,000 rooms open on weekdays for one year (closed at weekends), 500 users in
20 groups (each user in one group, every fifth also in a second), and four meetings a
day in every room on every date (about 1.46 million reservations, one in twenty
cancelled), inserted with generate_series — the database's triggers fill the reports'
summary (migration 0017) during that INSERT, as they would for any booking — and then
ANALYZEd. The summary the triggers left is checked against `mrs reports rebuild`'s (its
totals), and the rebuild is timed. One server process (uvicorn,
one worker); the requests run one at a time, so each time is the request's round trip on
the loopback (server time plus well under a millisecond), the median of `--runs` after
one warm-up; the server's CPU per request is printed beside it. Then EXPLAIN ANALYZE of
each report's queries, their plan's top node and execution time.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `loadtest` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg
from sqlalchemy.dialects import postgresql

from loadtest import harness
from loadtest.bench_feeds import timed_gets
from loadtest.bench_series import latency
from loadtest.bench_views import analyze
from mrs.db.engine import make_sync_engine
from mrs.reports import service, summary
from mrs.reports.periods import Period
from mrs.settings import Settings

TARGET_MS = 500.0
ROOMS = 1000
USERS = 500
GROUPS = 20
DAYS = 365
MEETINGS = 4  # a day in every room: 09:00, 11:00, 13:00, 15:00


def load(url: str, first_room: int, period: Period) -> int:
    """The year's dates, the meetings and the groups, in bulk; returns the reservations."""
    started = time.perf_counter()
    with psycopg.connect(harness._conninfo(url)) as conn:
        conn.execute("DELETE FROM reservable_room")
        conn.execute(
            """
            INSERT INTO reservable_room (reserved_date, room_id, is_open)
            SELECT d::date, r.room_id, extract(isodow FROM d) < 6
            FROM generate_series(%(first)s::date, %(last)s::date, interval '1 day') AS d,
                 meeting_room AS r
            """,
            {"first": period.first, "last": period.last},
        )
        # Each meeting 60 or 90 minutes; the owner spread over the users; every 20th
        # cancelled (the constraint holds: the slots never overlap).
        cursor = conn.execute(
            """
            INSERT INTO reservation (room_id, reserved_date, start_minute, end_minute,
                                     user_id, status, created_at, cancelled_at, title)
            SELECT rr.room_id, rr.reserved_date, 540 + 120 * h,
                   540 + 120 * h + 60 + 30 * ((rr.room_id + h) %% 2),
                   'load' || lpad(((rr.room_id * 7 + h * 13 + rr.reserved_date
                                    - %(first)s::date) %% %(users)s)::text, 4, '0'),
                   CASE WHEN (rr.room_id + h + rr.reserved_date - %(first)s::date) %% 20 = 0
                        THEN 'CANCELLED' ELSE 'ACTIVE' END,
                   now(),
                   CASE WHEN (rr.room_id + h + rr.reserved_date - %(first)s::date) %% 20 = 0
                        THEN now() END,
                   'Meeting'
            FROM reservable_room AS rr, generate_series(0, %(meetings)s - 1) AS h
            """,
            {"first": period.first, "users": USERS, "meetings": MEETINGS},
        )
        booked = cursor.rowcount
        conn.execute(
            """
            INSERT INTO user_group (name, name_key, description, created_at)
            SELECT 'Department ' || g, 'department ' || g, '', now()
            FROM generate_series(1, %(groups)s) AS g
            """,
            {"groups": GROUPS},
        )
        conn.execute(
            """
            INSERT INTO user_group_member (group_id, user_id)
            SELECT g.group_id, u.user_id FROM usr AS u
            JOIN user_group AS g
              ON g.name = 'Department ' || (1 + substr(u.user_id, 5)::int %% %(groups)s)
              OR (substr(u.user_id, 5)::int %% 5 = 0
                  AND g.name = 'Department ' || (1 + (substr(u.user_id, 5)::int / 5)
                                                    %% %(groups)s))
            WHERE u.user_id LIKE 'load%%'
            ON CONFLICT DO NOTHING
            """,
            {"groups": GROUPS},
        )
    analyze(harness._conninfo(url))
    print(f"loaded {booked:,} reservations in {time.perf_counter() - started:.0f} s", flush=True)
    return booked


TOTALS = (
    "SELECT (SELECT count(*) FROM report_room_day), (SELECT count(*) FROM report_user_day),"
    " (SELECT count(*) FROM report_hour_day),"
    " (SELECT sum(booked_minutes) || '/' || sum(reservations) || '/' || sum(cancelled)"
    "  FROM report_room_day),"
    " (SELECT sum(booked_minutes) || '/' || sum(reservations) || '/' || sum(cancelled)"
    "  FROM report_user_day),"
    " (SELECT sum(h08 + h09 + h10 + h11 + h12 + h13 + h14 + h15 + h16 + h17)"
    "  FROM report_hour_day)"
)


def check_rebuild(url: str) -> str:
    """The triggers' summary against a rebuild's (row counts and totals), and its time."""
    with psycopg.connect(harness._conninfo(url)) as conn:
        incremental = conn.execute(TOTALS).fetchone()
    settings = Settings(data_dir=Path(tempfile.gettempdir()), database_url=url)
    engine = make_sync_engine(settings)
    started = time.perf_counter()
    try:
        with engine.begin() as connection:
            summary.rebuild(connection)
    finally:
        engine.dispose()
    seconds = time.perf_counter() - started
    # The rebuild's delete left the triggers' rows dead: vacuumed as autovacuum would.
    with psycopg.connect(harness._conninfo(url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE report_room_day, report_user_day, report_hour_day")
    with psycopg.connect(harness._conninfo(url)) as conn:
        rebuilt = conn.execute(TOTALS).fetchone()
    verdict = "equal" if rebuilt == incremental else f"DIFFERENT: {incremental} vs {rebuilt}"
    return f"summary by the triggers vs rebuilt ({seconds:.1f} s): {verdict} {rebuilt}"


SCAN = re.compile(r"(Parallel )?(Seq|Index|Index Only|Bitmap Heap) Scan (using \w+ )?on \w+")


def explain(url: str, name: str, query: Any, args_plans: bool = False) -> str:
    """EXPLAIN ANALYZE of one report query: its top plan node and execution time."""
    sql = str(query.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
    with psycopg.connect(harness._conninfo(url)) as conn:
        plan = [row[0] for row in conn.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")]  # type: ignore[call-overload]
    if args_plans:
        print(f"{name}:\n" + "\n".join(plan))
    scans = sorted({found.group(0) for line in plan if (found := SCAN.search(line))})
    return f"  {name:<28} {plan[-1].strip()}: {', '.join(scans)}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="timed requests of each")
    parser.add_argument("--plans", action="store_true", help="print the whole plans")
    args = parser.parse_args(argv)
    with (
        tempfile.TemporaryDirectory(prefix="mrs-bench-reports-") as tmp,
        harness.throwaway_postgres("mrs_bench_reports") as url,
    ):
        workdir = Path(tmp)
        dataset = harness.seed(url, workdir, rooms=ROOMS, users=USERS, days=1)
        first = dataset.days[0]
        span = Period(first, first + timedelta(days=DAYS - 1))
        booked = load(url, dataset.room_ids[0], span)
        admin = dataset.user_ids[0]
        with psycopg.connect(harness._conninfo(url)) as conn:
            conn.execute("UPDATE usr SET role_name = 'ADMIN' WHERE user_id = %s", (admin,))
        query = f"from={span.first.isoformat()}&to={span.last.isoformat()}"
        options = harness.ServerOptions(database_url=url, data_dir=workdir, workers=1)
        lines = [
            f"{ROOMS:,} rooms, {DAYS} days, {booked:,} reservations, {GROUPS} groups",
            check_rebuild(url),
        ]
        with harness.running_server(options) as server:
            (token,) = harness.login_tokens(server.base_url, [admin], dataset.password)
            for name, path, headers in (
                ("the reports page (a year)", "/admin/reports", {"Cookie": f"mrs_session={token}"}),
                ("utilisation per room (a year)", "/api/admin/reports/utilisation", {"Authorization": f"Bearer {token}"}),
                ("utilisation per group (a year)", "/api/admin/reports/groups", {"Authorization": f"Bearer {token}"}),
            ):  # fmt: skip
                target = f"{server.base_url}{path}?{query}"
                timed_gets(server, target, headers, 1, 200)  # warm-up
                times, cpu = timed_gets(server, target, headers, args.runs, 200)
                lines.append(latency(name, times, cpu, TARGET_MS))
            tracebacks = server.count_in_log("Traceback")
        lines.append("plans (EXPLAIN ANALYZE):")
        for name, statement in (
            ("bookable minutes per room", service._bookable_minutes(span)),
            ("reservations per room", service._reservation_counts(span)),
            ("reservations per group", service._group_counts(span)),
            ("all rooms' bookable minutes", service._total_bookable_minutes(span)),
            ("busiest hours", service._minutes_by_date_and_hour(span)),
        ):
            lines.append(explain(url, name, statement, args.plans))
    print("\n".join(lines))
    if tracebacks:
        print(f"warning: {tracebacks} tracebacks in the server's log")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
