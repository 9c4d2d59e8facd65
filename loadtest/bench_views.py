"""Benchmarks of the views that help find a slot (DESIGN §9.7), absolute figures and the
ratio to each target from one run:

    .venv/bin/python loadtest/bench_views.py --duration 10

  free-room search   GET /api/rooms/available over 1,000 rooms      target ≥ 500/s
  day timeline page  GET /timeline?date=… with 200 rooms            target ≥ 100 pages/s
  a room's week page GET /rooms/{id}/week?date=…                    target ≥ 300 pages/s

Each on its own PostgreSQL database, seeded by loadtest.harness, with every room booked
every other hour from 09:00 to 17:00 (so each day has taken and free slots), at 100
connections through wrk (loadtest/wrk/mrs.lua, "page" mode, logged-in session cookies).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `loadtest` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy.engine import make_url

from loadtest import harness
from loadtest.bench import absolute, day_file, server_with_tokens, wrk

DAYS = 7


def book_every_other_hour(url: str, rooms: int) -> int:
    """Meetings at 09, 11, 13 and 15 o'clock in every room on every seeded day."""
    import psycopg

    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo) as conn:
        cursor = conn.execute(
            """
            INSERT INTO reservation (room_id, reserved_date, start_minute, end_minute,
                                     user_id, status, created_at, title)
            SELECT rr.room_id, rr.reserved_date, h * 60, h * 60 + 60,
                   'load' || lpad(((rr.room_id * 7 + h) %% 100)::text, 4, '0'), 'ACTIVE',
                   now(), 'Meeting ' || h
            FROM reservable_room rr, generate_series(9, 15, 2) AS h
            WHERE rr.room_id <= %(rooms)s
            ON CONFLICT DO NOTHING
            """,
            {"rooms": rooms},
        )
        booked = cursor.rowcount
    analyze(conninfo)
    return booked


def analyze(conninfo: str) -> None:
    """Give the planner the statistics of the bulk-loaded tables, as autovacuum would
    within a minute of the load. Measured before it, the views ran on plans made for
    empty tables: a nested loop over every reservation of the day for each room (the
    day timeline of 1,000 rooms took 1.5 s), which no database in use sees for long."""
    import psycopg

    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("ANALYZE")


def book_every_other_hour_sqlite(url: str, rooms: int) -> int:
    """The same meetings on the embedded SQLite database."""
    import sqlite3

    path = make_url(url).database or ""
    with sqlite3.connect(path) as conn:
        before = conn.total_changes
        conn.execute(
            """
            WITH RECURSIVE h(n) AS (SELECT 9 UNION ALL SELECT n + 2 FROM h WHERE n < 15)
            INSERT INTO reservation (room_id, reserved_date, start_minute, end_minute,
                                     user_id, status, created_at, title)
            SELECT rr.room_id, rr.reserved_date, h.n * 60, h.n * 60 + 60,
                   'load' || substr('0000' || ((rr.room_id * 7 + h.n) % 100), -4), 'ACTIVE',
                   strftime('%Y-%m-%d %H:%M:%f', 'now'), 'Meeting ' || h.n
            FROM reservable_room AS rr, h
            WHERE rr.room_id <= ?
            """,
            (rooms,),
        )
        booked = conn.total_changes - before
        conn.execute("ANALYZE")
    return booked


def measure(name: str, *, rooms: int, page: str, target: float, args: argparse.Namespace) -> str:
    with tempfile.TemporaryDirectory() as tmp, harness.throwaway_postgres("mrs_views") as url:
        workdir = Path(tmp)
        dataset = harness.seed(url, workdir / "data", rooms=rooms, days=DAYS)
        booked = book_every_other_hour(url, rooms)
        days = day_file(workdir, "days.txt", dataset.days)
        options = harness.ServerOptions(
            database_url=url, data_dir=workdir / "data", workers=args.workers
        )
        with server_with_tokens(options, dataset, workdir, args.logins) as (server, tokens):
            wrk(server, "page", tokens=tokens, days=days, connections=args.connections,
                seconds=max(1, args.duration // 3), page=page)  # fmt: skip
            result = wrk(
                server,
                "page",
                tokens=tokens,
                days=days,
                connections=args.connections,
                seconds=args.duration,
                page=page,
            )
        ok = result.statuses.get(200, 0)
        others = sum(result.statuses.values()) - ok
        print(f"  {name}: {rooms} rooms, {booked} reservations; {result.detail}")
        if others:
            print(f"  warning: {others} answers other than 200")
        return absolute(name, result, target)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--connections", type=int, default=100, help="wrk connections")
    parser.add_argument("--logins", type=int, default=20, help="users whose sessions wrk uses")
    parser.add_argument("--only", default="search,timeline,week", help="comma list")
    args = parser.parse_args(argv)
    chosen = set(args.only.split(","))
    lines = []
    if "search" in chosen:
        lines.append(
            measure(
                "free-room search (1,000 rooms)",
                rooms=1000,
                page="/api/rooms/available?date={date}&start_time=10:00&end_time=11:00&capacity=6",
                target=500,
                args=args,
            )
        )
    if "timeline" in chosen:
        lines.append(
            measure(
                "day timeline page (200 rooms)",
                rooms=200,
                page="/timeline?date={date}",
                target=100,
                args=args,
            )
        )
    if "week" in chosen:
        lines.append(
            measure(
                "a room's week page",
                rooms=50,
                page="/rooms/1/week?date={date}",
                target=300,
                args=args,
            )
        )
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
