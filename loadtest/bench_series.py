"""Benchmarks of recurring series on PostgreSQL (DESIGN §9.7), figures and ratios from one
run:

    .venv/bin/python loadtest/bench_series.py --duration 10

  create a series      POST /api/rooms/{id}/series, weekly, 104 occurrences: median of
                       20 requests one after the other            target ≤ 100 ms
  edit "all" of it     PATCH /api/series/{id} scope "all", title and time changed:
                       median of 20                                target ≤ 200 ms
  reserve with series  POST /api/rooms/{id}/reservations (wrk, as loadtest/bench.py) with
                       10,000 series in the database ÷ without     target ≥ 0.90

Two databases seeded alike by loadtest.harness (the 50 rooms wrk books and 200 more, all
opened for two years); one of them also holds 10,000 weekly series with their occurrences
(26 each, 260,000 reservations) on the 200 other rooms, so reserve meets the bigger
tables and index but not more conflicts. Both servers are up at once and measured in
alternating turns (loadtest.bench.alternate). The series requests run against the
database with the 10,000 series, one at a time: each time is the request's round trip
on the loopback (server time plus well under a millisecond), and the server's CPU per
request is printed beside it.
"""

from __future__ import annotations

import argparse
import json
import ssl
import statistics
import sys
import tempfile
import time
import urllib.request
from datetime import date
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `loadtest` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg

from loadtest import harness
from loadtest.bench import (
    ROOMS,
    WRITE_DAYS,
    Measure,
    alternate,
    day_file,
    ratio,
    server_with_tokens,
)
from loadtest.bench_views import analyze

# Rooms 1..ROOMS are wrk's; the series live on the rooms after them, SERIES_PER_ROOM each,
# on distinct weekday-and-hour slots (7 weekdays x 8 hours from 08:00) so none overlap.
SERIES_ROOMS = 200
SERIES_PER_ROOM = 50
OPEN_DAYS = 2 * 365 + 14  # a 104-week series fits from any of the first days
CREATE_TARGET_MS = 100.0
EDIT_TARGET_MS = 200.0


def add_series(url: str, *, count: int, occurrences: int, first_day: date) -> int:
    """`count` weekly series, each with `occurrences` occurrences, straight into the
    tables (as the series service stores them); returns the reservations added."""
    with psycopg.connect(harness._conninfo(url)) as conn:
        conn.execute(
            """
            INSERT INTO reservation_series (room_id, user_id, title, start_date, start_minute,
                                            end_minute, rule, created_at)
            SELECT %(rooms)s + 1 + k / %(per_room)s,
                   'load' || lpad((k %% 100)::text, 4, '0'),
                   'Weekly ' || k,
                   %(first)s::date + (k %% %(per_room)s) %% 7,
                   (8 + (k %% %(per_room)s) / 7) * 60,
                   (9 + (k %% %(per_room)s) / 7) * 60,
                   'FREQ=WEEKLY;COUNT=' || %(occurrences)s,
                   now()
            FROM generate_series(0, %(count)s - 1) AS k
            """,
            {
                "rooms": ROOMS,
                "per_room": SERIES_PER_ROOM,
                "first": first_day,
                "occurrences": occurrences,
                "count": count,
            },
        )
        added = conn.execute(
            """
            INSERT INTO reservation (room_id, reserved_date, start_minute, end_minute, user_id,
                                     status, created_at, title, series_id, occurrence_date)
            SELECT s.room_id, s.start_date + 7 * w, s.start_minute, s.end_minute, s.user_id,
                   'ACTIVE', now(), s.title, s.series_id, s.start_date + 7 * w
            FROM reservation_series AS s, generate_series(0, %(occurrences)s - 1) AS w
            """,
            {"occurrences": occurrences},
        ).rowcount
    analyze(harness._conninfo(url))
    return added


def _call(base_url: str, method: str, path: str, token: str, body: dict[str, Any]) -> Any:
    context = ssl._create_unverified_context() if base_url.startswith("https") else None
    request = urllib.request.Request(
        f"{base_url}{path}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        method=method,
    )
    with urllib.request.urlopen(request, timeout=60, context=context) as response:
        return json.loads(response.read())


def timed(
    server: harness.RunningServer, calls: list[tuple[str, str, str, dict[str, Any]]]
) -> tuple[list[float], float, list[Any]]:
    """Run the calls one after the other: each one's time in ms, the server's CPU ms per
    call, and the answers."""
    times, answers = [], []
    cpu_before = server.cpu_seconds()
    for method, path, token, body in calls:
        started = time.perf_counter()
        answers.append(_call(server.base_url, method, path, token, body))
        times.append((time.perf_counter() - started) * 1000)
    cpu_ms = (server.cpu_seconds() - cpu_before) * 1000 / max(len(calls), 1)
    return times, cpu_ms, answers


def latency(name: str, times: list[float], cpu_ms: float, target_ms: float) -> str:
    median = statistics.median(times)
    verdict = "met" if median <= target_ms else "NOT met"
    return (
        f"{name:<34} median {median:6.1f} ms of {len(times)} (min {min(times):.1f}, "
        f"max {max(times):.1f}; server CPU {cpu_ms:.1f} ms each) "
        f"(target ≤ {target_ms:.0f} ms: {verdict})"
    )


def series_latencies(
    server: harness.RunningServer, tokens: list[str], first_day: date, runs: int, weeks: int
) -> list[str]:
    """Create `runs` weekly series of `weeks` occurrences (each on its own series room at
    18:00, free there), then edit all of each: title and time."""
    creates = [
        (
            "POST",
            f"/api/rooms/{ROOMS + 1 + index % SERIES_ROOMS}/series",
            tokens[index % len(tokens)],
            {
                "title": f"Benchmark series {index}",
                "start_date": first_day.isoformat(),
                "start_time": "18:00",
                "end_time": "19:00",
                "rule": f"FREQ=WEEKLY;COUNT={weeks}",
                "on_conflict": "fail",
            },
        )
        for index in range(runs)
    ]
    create_times, create_cpu, created = timed(server, creates)
    assert all(len(answer["occurrences"]) == weeks for answer in created), created[0]
    edits = [
        (
            "PATCH",
            f"/api/series/{answer['series_id']}",
            tokens[index % len(tokens)],
            {
                "scope": "all",
                "title": f"Benchmark series {index}, edited",
                "start_time": "19:00",
                "end_time": "20:30",
            },
        )
        for index, answer in enumerate(created)
    ]
    edit_times, edit_cpu, _ = timed(server, edits)
    return [
        latency(f"create a {weeks}-occurrence series", create_times, create_cpu, CREATE_TARGET_MS),
        latency("edit all of it", edit_times, edit_cpu, EDIT_TARGET_MS),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk turn")
    parser.add_argument("--turns", type=int, default=4, help="alternating turns per side")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--connections", type=int, default=100, help="wrk connections")
    parser.add_argument("--logins", type=int, default=20, help="users whose tokens are used")
    parser.add_argument("--series", type=int, default=10_000, help="series in the database")
    parser.add_argument("--occurrences", type=int, default=26, help="occurrences per series")
    parser.add_argument("--runs", type=int, default=20, help="series created and edited")
    parser.add_argument("--weeks", type=int, default=104, help="occurrences of each")
    parser.add_argument("--only", default="series,reserve", help="comma list of: series, reserve")
    args = parser.parse_args(argv)
    chosen = set(args.only.split(","))
    if args.series > SERIES_ROOMS * SERIES_PER_ROOM:
        parser.error(f"--series: at most {SERIES_ROOMS * SERIES_PER_ROOM}")
    lines: list[str] = []
    with tempfile.TemporaryDirectory(prefix="mrs-bench-series-") as tmp:
        workdir = Path(tmp)
        with (
            harness.throwaway_postgres("mrs_bench_plain") as plain,
            harness.throwaway_postgres("mrs_bench_series") as with_series,
        ):
            urls = {"without series": plain, "with series": with_series}
            datasets = {
                label: harness.seed(
                    url, workdir / label, rooms=ROOMS + SERIES_ROOMS, users=100, days=OPEN_DAYS
                )
                for label, url in urls.items()
            }
            first_day = datasets["with series"].days[0]
            started = time.perf_counter()
            added = add_series(
                with_series, count=args.series, occurrences=args.occurrences, first_day=first_day
            )
            analyze(harness._conninfo(plain))
            print(
                f"{args.series:,} series with {added:,} occurrences added in "
                f"{time.perf_counter() - started:.0f} s",
                flush=True,
            )
            write_days = day_file(
                workdir, "write-days.txt", datasets["with series"].days[:WRITE_DAYS]
            )
            options = {
                label: harness.ServerOptions(
                    database_url=url, data_dir=workdir / label, workers=args.workers
                )
                for label, url in urls.items()
            }
            # Each server writes its tokens into its own directory (the file name is the same).
            for label in urls:
                (workdir / label).mkdir(parents=True, exist_ok=True)
            with (
                server_with_tokens(
                    options["without series"],
                    datasets["without series"],
                    workdir / "without series",
                    args.logins,
                ) as plain_server,
                server_with_tokens(
                    options["with series"],
                    datasets["with series"],
                    workdir / "with series",
                    args.logins,
                ) as series_server,
            ):
                if "series" in chosen:
                    tokens = series_server[1].read_text().split()
                    lines += series_latencies(
                        series_server[0], tokens, first_day, args.runs, args.weeks
                    )
                    for line in lines:
                        print(f"  {line}", flush=True)
                if "reserve" not in chosen:
                    return 0  # the figures are printed above
                measured: dict[str, Measure] = alternate(
                    {"without series": plain_server, "with series": series_server},
                    "reserve",
                    days=write_days,
                    connections=args.connections,
                    seconds=args.duration,
                    rounds=args.turns,
                )
                for label, measure in measured.items():
                    print(f"  reserve {label}: {measure.rate:,.1f}/s  {measure.detail}")
            lines.append(
                ratio(
                    f"reserve, {args.series:,} series ÷ none",
                    measured["with series"],
                    measured["without series"],
                    0.9,
                )
            )
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
