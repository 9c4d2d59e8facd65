"""Benchmark: backup + verified restore of 1,000,000 reservations on PostgreSQL.

    .venv/bin/python loadtest/bench_backup.py [--reservations 1000000]

Creates a throwaway database on MRS_BENCH_DATABASE_URL's server (default: the test server,
postgresql+psycopg://postgres@127.0.0.1:5432/postgres), fills it with generated rows
(SQL generate_series, the exclusion constraint added after the load as pg_restore does),
then times `create_backup` (pg_dump in the checksummed snapshot) and `verify_backup`
(sha256, pg_restore into a scratch database, checksums compared with the manifest).
Prints each phase and the total against the 60 s target (the plan allows 300 s).
The database and the backup files are removed at the end.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from mrs.db.engine import make_sync_engine
from mrs.db.migrate import upgrade
from mrs.ops import backup as backups
from mrs.settings import Settings

ADMIN_URL = os.environ.get(
    "MRS_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
TARGET_SECONDS = 60.0
ROOMS = 100
SLOTS = 20  # 30-minute slots from 08:00 to 18:00


def _conninfo(database: str) -> str:
    url = make_url(ADMIN_URL).set(drivername="postgresql", database=database)
    return url.render_as_string(hide_password=False)


def fill(database: str, reservations: int) -> None:
    days = max(1, reservations // (ROOMS * SLOTS))
    with psycopg.connect(_conninfo(database), autocommit=False) as conn:
        conn.execute("ALTER TABLE reservation DROP CONSTRAINT ex_reservation_no_overlap")
        conn.execute(
            "INSERT INTO usr SELECT 'user' || lpad(i::text, 5, '0'), 'Bench', 'User ' || i,"
            " 'user' || i || '@example.com', '$argon2id$v=19$m=65536,t=3,p=4$x$y', 'USER',"
            " 'ACTIVE', now(), NULL, NULL, NULL FROM generate_series(1, 1000) i"
        )
        conn.execute(
            "INSERT INTO meeting_room (room_id, room_name, capacity, location, active)"
            " SELECT r, 'Room ' || r, 8, '1F', true FROM generate_series(1, %s) r",
            (ROOMS,),
        )
        conn.execute(
            "INSERT INTO reservable_room (reserved_date, room_id, is_open)"
            " SELECT date '2030-01-01' + d, r, true"
            " FROM generate_series(0, %s) d, generate_series(1, %s) r",
            (days - 1, ROOMS),
        )
        conn.execute(
            "INSERT INTO reservation (room_id, reserved_date, start_minute, end_minute, user_id,"
            " status, created_at, cancelled_at, cancelled_by)"
            " SELECT r, date '2030-01-01' + d, 480 + s * 30, 510 + s * 30,"
            " 'user' || lpad((1 + (d * 2000 + r * 20 + s) %% 1000)::text, 5, '0'),"
            " CASE WHEN s %% 5 = 4 THEN 'CANCELLED' ELSE 'ACTIVE' END,"
            " now() - make_interval(mins => d),"
            " CASE WHEN s %% 5 = 4 THEN now() END, CASE WHEN s %% 5 = 4 THEN 'user00001' END"
            " FROM generate_series(0, %s) d, generate_series(1, %s) r,"
            " generate_series(0, %s) s",
            (days - 1, ROOMS, SLOTS - 1),
        )
        conn.execute("SET maintenance_work_mem = '256MB'")
        conn.execute(
            "ALTER TABLE reservation ADD CONSTRAINT ex_reservation_no_overlap"
            " EXCLUDE USING gist (room_id WITH =, reserved_date WITH =,"
            " int4range(start_minute, end_minute) WITH &&) WHERE (status = 'ACTIVE')"
        )
        conn.execute(
            "SELECT setval(pg_get_serial_sequence('meeting_room', 'room_id'), %s)", (ROOMS,)
        )
        conn.commit()
    with psycopg.connect(_conninfo(database), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reservations", type=int, default=1_000_000)
    args = parser.parse_args()
    name = f"mrs_bench_backup_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_conninfo("postgres"), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        with tempfile.TemporaryDirectory(prefix="mrs-bench-") as tmp:
            settings = Settings(
                data_dir=Path(tmp), database_url=url, backup_dir=Path(tmp) / "backups"
            )
            engine = make_sync_engine(settings)
            upgrade(engine)
            engine.dispose()
            started = time.perf_counter()
            fill(name, args.reservations)
            print(
                f"generated {args.reservations:,} reservations in {time.perf_counter() - started:.1f} s"
            )

            started = time.perf_counter()
            made = backups.create_backup(settings, trigger="benchmark")
            backup_seconds = time.perf_counter() - started
            assert made.manifest is not None
            rows = made.manifest["tables"]["reservation"]["rows"]
            size_mb = made.manifest["size_bytes"] / 1e6
            print(
                f"backup  (pg_dump -Fc + checksums of the same snapshot): {backup_seconds:6.1f} s"
                f"  ({rows:,} reservations, {size_mb:.1f} MB)"
            )

            started = time.perf_counter()
            report = backups.verify_backup(settings, made)
            verify_seconds = time.perf_counter() - started
            print(
                f"verify  (sha256 + pg_restore into scratch + checksums):   {verify_seconds:6.1f} s"
                f"  ({report.rows:,} rows compared)"
            )
            total = backup_seconds + verify_seconds
            print(
                f"total backup + verified restore:                         {total:6.1f} s"
                f"  target {TARGET_SECONDS:.0f} s -> ratio {total / TARGET_SECONDS:.2f}"
                f" ({'PASS' if total <= TARGET_SECONDS else 'OVER'}; plan limit 300 s)"
            )
    finally:
        with psycopg.connect(_conninfo("postgres"), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
