"""Benchmark of calendar feeds on PostgreSQL, figures from one run:

    .venv/bin/python loadtest/bench_feeds.py

  a feed of 500 reservations, built   GET /calendar/{token}.ics, the user's own feed,
                                      right after one of its meetings changed (the
                                      request builds it): median of 20   target ≤ 50 ms
  the same feed, unchanged            GET without validators: served as built before
                                      (feeds.FeedCache): median of 50    target ≤ 50 ms
  304 on an unchanged feed            the same with If-None-Match: median of 200
                                                                         target ≤ 5 ms
  for comparison                      GET /health/liveness: median of 200

The feed: 400 single meetings (50 of them someone else's, attended) and 10 daily series
of 10 occurrences, each with one cancelled and one moved (490 occurrences, 420 VEVENTs).
One server process (uvicorn, one worker) on a seeded throwaway database; the requests
run one at a time, so each time is the request's round trip on the loopback (server
time plus well under a millisecond); the server's CPU per request is printed beside it
(steadier than times on a shared machine).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import date
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `loadtest` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import icalendar
import psycopg
import recurring_ical_events

from loadtest import harness
from loadtest.bench_series import latency
from loadtest.bench_views import analyze

FEED_TARGET_MS = 50.0
NOT_MODIFIED_TARGET_MS = 5.0
SINGLES = 400
ATTENDED = 50  # of the singles: someone else's, the feed's user invited
SERIES = 10
OCCURRENCES = 10


def add_meetings(url: str, owner: str, other: str, rooms: list[int], first_day: date) -> int:
    """The feed's 500 reservations, straight into the tables (as the services store
    them); returns how many occurrences the feed should expand to."""
    with psycopg.connect(harness._conninfo(url)) as conn:
        # Singles: 20 half-hour slots a day from 08:00 in the first room, day after day.
        conn.execute(
            """
            INSERT INTO reservation (room_id, reserved_date, start_minute, end_minute, user_id,
                                     status, created_at, title, description)
            SELECT %(room)s, %(first)s::date + k / 20, 480 + 30 * (k %% 20),
                   510 + 30 * (k %% 20),
                   CASE WHEN k < %(attended)s THEN %(other)s ELSE %(owner)s END,
                   'ACTIVE', now(), 'Meeting ' || k, 'Agenda of meeting ' || k
            FROM generate_series(0, %(singles)s - 1) AS k
            """,
            {
                "room": rooms[0],
                "first": first_day,
                "attended": ATTENDED,
                "singles": SINGLES,
                "owner": owner,
                "other": other,
            },
        )
        conn.execute(
            """
            INSERT INTO reservation_attendee (reservation_id, user_id)
            SELECT reservation_id, %(owner)s FROM reservation WHERE user_id = %(other)s
            """,
            {"owner": owner, "other": other},
        )
        # Series: daily at 09:00 in rooms of their own, each with its occurrences.
        conn.execute(
            """
            INSERT INTO reservation_series (room_id, user_id, title, start_date, start_minute,
                                            end_minute, rule, created_at)
            SELECT %(rooms)s[1 + k], %(owner)s, 'Daily ' || k, %(first)s::date, 540, 570,
                   'FREQ=DAILY;COUNT=' || %(occurrences)s, now()
            FROM generate_series(1, %(series)s) AS k
            """,
            {
                "rooms": rooms,
                "owner": owner,
                "first": first_day,
                "occurrences": OCCURRENCES,
                "series": SERIES,
            },
        )
        conn.execute(
            """
            INSERT INTO reservation (room_id, reserved_date, start_minute, end_minute, user_id,
                                     status, created_at, title, series_id, occurrence_date)
            SELECT s.room_id, s.start_date + d, s.start_minute, s.end_minute, s.user_id,
                   'ACTIVE', now(), s.title, s.series_id, s.start_date + d
            FROM reservation_series AS s, generate_series(0, %(occurrences)s - 1) AS d
            """,
            {"occurrences": OCCURRENCES},
        )
        # The third occurrence of each cancelled, the fifth moved an hour later.
        conn.execute(
            """
            UPDATE reservation SET status = 'CANCELLED', cancelled_at = now(),
                                   cancelled_by = user_id, is_exception = true
            WHERE series_id IS NOT NULL AND occurrence_date = %(first)s::date + 2
            """,
            {"first": first_day},
        )
        conn.execute(
            """
            UPDATE reservation SET start_minute = 600, end_minute = 630, is_exception = true,
                                   version = version + 1, updated_at = now()
            WHERE series_id IS NOT NULL AND occurrence_date = %(first)s::date + 4
            """,
            {"first": first_day},
        )
    analyze(harness._conninfo(url))
    return SINGLES + SERIES * (OCCURRENCES - 1)


def _get(url: str, headers: dict[str, str]) -> tuple[int, bytes, dict[str, str]]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return (
                response.status,
                response.read(),
                {k.lower(): v for k, v in response.headers.items()},
            )
    except urllib.error.HTTPError as answer:  # 304 arrives as an "error"
        return answer.code, answer.read(), {k.lower(): v for k, v in answer.headers.items()}


def timed_gets(
    server: harness.RunningServer,
    url: str,
    headers: dict[str, str],
    runs: int,
    status: int,
    before_each: Callable[[int], None] | None = None,
) -> tuple[list[float], float]:
    """`runs` GETs one after the other: each one's time in ms and the server's CPU ms per
    GET (`before_each(n)`, untimed, runs before the n-th); every answer has `status`."""
    times = []
    cpu = 0.0
    for n in range(runs):
        if before_each is not None:
            before_each(n)
        cpu_before = server.cpu_seconds()
        started = time.perf_counter()
        code, _body, _ = _get(url, headers)
        times.append((time.perf_counter() - started) * 1000)
        cpu += server.cpu_seconds() - cpu_before
        assert code == status, code
    return times, cpu * 1000 / runs


def _patch(base_url: str, token: str, reservation_id: int, title: str) -> None:
    request = urllib.request.Request(
        f"{base_url}/api/reservations/{reservation_id}",
        data=json.dumps({"title": title}).encode(),
        method="PATCH",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == 200, response.status


def _one_of_mine(url: str, owner: str) -> int:
    with psycopg.connect(harness._conninfo(url)) as conn:
        row = conn.execute(
            "SELECT min(reservation_id) FROM reservation WHERE user_id = %s AND series_id IS NULL",
            (owner,),
        ).fetchone()
    assert row is not None
    return int(row[0])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--changes", type=int, default=20, help="feeds built after a change")
    parser.add_argument("--runs", type=int, default=50, help="full feed requests, unchanged")
    parser.add_argument("--conditional-runs", type=int, default=200, help="304 requests")
    args = parser.parse_args(argv)
    with (
        tempfile.TemporaryDirectory(prefix="mrs-bench-feeds-") as tmp,
        harness.throwaway_postgres("mrs_bench_feeds") as url,
    ):
        workdir = Path(tmp)
        dataset = harness.seed(url, workdir, rooms=SERIES + 1, users=2, days=30)
        owner, other = dataset.user_ids
        expected = add_meetings(url, owner, other, dataset.room_ids, dataset.days[0])
        options = harness.ServerOptions(database_url=url, data_dir=workdir, workers=1)
        with harness.running_server(options) as server:
            (token,) = harness.login_tokens(server.base_url, [owner], dataset.password)
            made = urllib.request.Request(
                f"{server.base_url}/api/me/calendar-feed",
                method="POST",
                headers={"Authorization": f"Bearer {token}"},
            )
            with urllib.request.urlopen(made, timeout=60) as response:
                feed_url = json.loads(response.read())["url"]
            code, body, headers = _get(feed_url, {})
            assert code == 200, code
            found = recurring_ical_events.of(icalendar.Calendar.from_ical(body)).between(
                dataset.days[0], dataset.days[-1]
            )
            assert len(list(found)) == expected, (len(list(found)), expected)
            print(
                f"feed: {len(body):,} bytes, {body.count(b'BEGIN:VEVENT')} VEVENTs, "
                f"{expected} occurrences (checked with recurring-ical-events)",
                flush=True,
            )
            timed_gets(server, feed_url, {}, 5, 200)  # warm-up
            changed = _one_of_mine(url, owner)
            built_times, built_cpu = timed_gets(
                server,
                feed_url,
                {},
                args.changes,
                200,
                lambda n: _patch(server.base_url, token, changed, f"Changed {n}"),
            )
            cached_times, cached_cpu = timed_gets(server, feed_url, {}, args.runs, 200)
            code, _, headers = _get(feed_url, {})
            conditional = {"If-None-Match": headers["etag"]}
            timed_gets(server, feed_url, conditional, 20, 304)
            not_modified_times, not_modified_cpu = timed_gets(
                server, feed_url, conditional, args.conditional_runs, 304
            )
            health = f"{server.base_url}/health/liveness"
            timed_gets(server, health, {}, 20, 200)
            health_times, health_cpu = timed_gets(server, health, {}, args.conditional_runs, 200)
    lines = [
        latency("a feed of 500, built", built_times, built_cpu, FEED_TARGET_MS),
        latency("the same feed, unchanged", cached_times, cached_cpu, FEED_TARGET_MS),
        latency(
            "304 on an unchanged feed",
            not_modified_times,
            not_modified_cpu,
            NOT_MODIFIED_TARGET_MS,
        ),
        f"{'for comparison: /health/liveness':<34} median "
        f"{statistics.median(health_times):6.1f} ms of {len(health_times)} "
        f"(server CPU {health_cpu:.1f} ms each)",
    ]
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
