"""The reminder job's cost on PostgreSQL: one round over a busy site.

1,000 rooms open for 14 days with 16 half-hour meetings a day each (224,000 reservations);
on the measured day every room has meetings at 10:00 and 10:30 with four attendees, and
every user wants a reminder an hour ahead. Timed with the clock pinned at 09:30:

- the first round, which queues every reminder (2,000 meetings × 5 people);
- a steady round right after (everything already sent: what the job costs each minute);
- a quiet round at 05:00 (nothing starts within the hour);

and the plan of the due-meetings query (it must use ix_reservation_active_day).

    .venv/bin/python loadtest/bench_reminders.py
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `loadtest` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg

from loadtest import harness
from mrs.calendars import reminders
from mrs.db.engine import Database

ROOMS = 1000
USERS = 1000
DAYS = 14


def fill(url: str, day_list: list[object], room_ids: list[int], user_ids: list[str]) -> int:
    """Meetings 08:00-16:00 in every room every day, attendees for the measured day's
    10:00 and 10:30 meetings, and a 60-minute reminder for everyone; returns the count."""
    with psycopg.connect(harness._conninfo(url)) as conn:
        conn.execute(
            """
            INSERT INTO reservation (room_id, reserved_date, start_minute, end_minute,
                                     user_id, status, created_at, title)
            SELECT r.room_id, d.day, 480 + 30 * s, 510 + 30 * s,
                   (%(users)s::text[])[1 + (r.room_id + s) %% %(n)s], 'ACTIVE', now(), 'Meeting ' || s
            FROM meeting_room AS r, unnest(%(days)s::date[]) AS d(day),
                 generate_series(0, 15) AS s
            """,
            {"users": user_ids, "n": len(user_ids), "days": day_list},
        )
        conn.execute(
            """
            INSERT INTO reservation_attendee (reservation_id, user_id)
            SELECT r.reservation_id, (%(users)s::text[])[1 + (r.room_id * 7 + k * 131 + r.start_minute)
                                               %% %(n)s]
            FROM reservation AS r, generate_series(1, 4) AS k
            WHERE r.reserved_date = %(day)s AND r.start_minute IN (600, 630)
            ON CONFLICT DO NOTHING
            """,
            {"users": user_ids, "n": len(user_ids), "day": day_list[0]},
        )
        conn.execute(
            "INSERT INTO mail_preference (user_id, reminder_minutes) SELECT unnest(%s::text[]), 60",
            (user_ids,),
        )
        total = conn.execute("SELECT count(*) FROM reservation").fetchone()
        conn.execute("ANALYZE")
    return int(total[0]) if total else 0


def plan(url: str, day: object) -> str:
    """The plan PostgreSQL picks for the due-meetings query's shape."""
    with psycopg.connect(harness._conninfo(url)) as conn:
        rows = conn.execute(
            """
            EXPLAIN SELECT reservation_id FROM reservation
            WHERE status = 'ACTIVE' AND reserved_date = %s AND start_minute BETWEEN 570 AND 630
            """,
            (day,),
        ).fetchall()
    return "\n".join(str(row[0]) for row in rows)


async def timed_round(db: Database, now: datetime) -> tuple[int, float]:
    began = time.perf_counter()
    queued = await reminders.send_due_reminders(db, db.settings, now=now)
    return queued, (time.perf_counter() - began) * 1000


async def measure(url: str, data_dir: Path) -> None:
    dataset = harness.seed(url, data_dir, rooms=ROOMS, users=USERS, days=DAYS)
    count = fill(url, dataset.days, dataset.room_ids, dataset.user_ids)
    day = dataset.days[0]
    settings = harness.settings_for(url, data_dir).model_copy(
        update={"mail_max_per_recipient": 1000}
    )
    tz = settings.tz
    db = Database(settings)
    try:
        quiet = datetime(day.year, day.month, day.day, 5, 0, tzinfo=tz)
        busy = datetime(day.year, day.month, day.day, 9, 30, tzinfo=tz)
        q_quiet, ms_quiet = await timed_round(db, quiet)
        q_busy, ms_busy = await timed_round(db, busy)
        q_steady, ms_steady = await timed_round(db, busy)
    finally:
        await db.dispose()
    print(f"{count:,} reservations, {ROOMS} rooms, {USERS} users with a 60-minute reminder")
    print(f"quiet round (05:00, nothing within the hour): {q_quiet} queued in {ms_quiet:.1f} ms")
    print(
        f"first round (09:30): {q_busy:,} reminders queued in {ms_busy:.0f} ms "
        f"({ms_busy / max(q_busy, 1):.2f} ms each)"
    )
    print(f"steady round (09:30 again, all sent): {q_steady} queued in {ms_steady:.0f} ms")
    print("plan of the due-meetings query:\n" + plan(url, day))


def main() -> int:
    with (
        tempfile.TemporaryDirectory() as data,
        harness.throwaway_postgres("mrs_bench_remind") as url,
    ):
        asyncio.run(measure(url, Path(data)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
