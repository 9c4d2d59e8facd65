"""Benchmarks that print ratios from one run (DESIGN §8): both sides of each ratio are
measured in the same run, on the same machine, one after the other.

    .venv/bin/python loadtest/bench.py --duration 10

Figures (each a separate phase, `--phases` picks some):
  reserve ÷ pgbench insert    POST /api/rooms/{id}/reservations (wrk, 100 connections)
                              vs the same conditional insert through pgbench (10 clients)
  room's day ÷ pgbench read   GET /api/rooms/{id}/reservations?date=… vs the same SELECT
  rooms of a date             GET /api/rooms?date=… (50 rooms), req/s
  PostgreSQL ÷ SQLite         reserve and room's day again on SQLite, 100 connections
  HTTPS ÷ HTTP                --https (needs `mrs serve --certfile/--keyfile`, issue 4)
  with ÷ without a setting    --ab-env MRS_X=value (e.g. metrics on ÷ off, issue 5)
  meeting ÷ plain reserve     --phases meetings: POST …/reservations with a title and two
                              attendees vs the seed's {date, start_time, end_time} body,
                              on one server in alternating turns (target ≥ 0.90)

The load generator is wrk (Debian package `wrk`) with loadtest/wrk/mrs.lua, 2 threads.
It shares the 2 cores with the server and PostgreSQL, so the ratios, not the absolute
figures, are what carries over between machines.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `loadtest` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy.engine import make_url

from loadtest import harness

HERE = Path(__file__).resolve().parent
WRK_SCRIPT = HERE / "wrk" / "mrs.lua"
# Days opened for writes (a large space keeps most inserts successful) and, for reads,
# the first READ_DAYS days filled with a realistic day of bookings.
WRITE_DAYS = 365
READ_DAYS = 30
ROOMS = 50


@dataclass
class Measure:
    label: str
    rate: float  # requests (or transactions) per second
    detail: str = ""
    statuses: dict[int, int] = field(default_factory=dict)


def _require(tool: str, hint: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise SystemExit(f"error: `{tool}` is not installed ({hint})")
    return path


def pgbench(
    url: str, script: Path, *, first_day: date, ndays: int, clients: int, seconds: int
) -> Measure:
    """TPS of `script` through pgbench (simple protocol, `clients` clients, 2 threads)."""
    u = make_url(url)
    command = [
        _require("pgbench", "apt-get install postgresql-client"),
        "-n", "-h", u.host or "127.0.0.1", "-p", str(u.port or 5432), "-U", u.username or "postgres",
        "-c", str(clients), "-j", "2", "-T", str(seconds), "-f", str(script),
        "-D", f"first_day='{first_day.isoformat()}'", "-D", f"ndays={ndays}", u.database or "",
    ]  # fmt: skip
    env = {**os.environ, **({"PGPASSWORD": u.password} if u.password else {})}
    out = subprocess.run(command, capture_output=True, text=True, env=env, check=True).stdout
    tps = float(re.search(r"tps = ([\d.]+)", out).group(1))  # type: ignore[union-attr]
    latency = re.search(r"latency average = ([\d.]+) ms", out)
    return Measure(
        f"pgbench {script.stem}",
        tps,
        f"{clients} clients, latency avg {latency.group(1) if latency else '?'} ms",
    )


def wrk(
    server: harness.RunningServer,
    mode: str,
    *,
    tokens: Path,
    days: Path,
    connections: int,
    seconds: int,
    page: str = "",
) -> Measure:
    """Requests per second of one kind of request through wrk."""
    env = {
        **os.environ,
        "MRS_WRK_MODE": mode,
        "MRS_WRK_TOKENS": str(tokens),
        "MRS_WRK_DAYS": str(days),
        "MRS_WRK_ROOMS": f"1,{ROOMS}",
        "MRS_WRK_PAGE": page,
        "MRS_WRK_COOKIE": "__Host-mrs_session"
        if server.base_url.startswith("https")
        else "mrs_session",
    }
    command = [
        _require("wrk", "apt-get install wrk"),
        "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--timeout", "10s",
        "-s", str(WRK_SCRIPT), server.base_url,
    ]  # fmt: skip
    cpu_before = server.cpu_seconds()
    out = subprocess.run(command, capture_output=True, text=True, env=env, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    statuses = {int(c): int(n) for c, n in re.findall(r"MRS_STATUS (\d+) (\d+)", out)}
    p50, p99 = (int(x) / 1000 for x in re.search(r"MRS_LATENCY (\d+) (\d+)", out).groups())  # type: ignore[union-attr]
    errors = re.search(r"MRS_ERRORS (\d+) (\d+) (\d+) (\d+)", out)
    cpu_ms = (server.cpu_seconds() - cpu_before) * 1000 / max(sum(statuses.values()), 1)
    rendered = " ".join(f"{code}:{n}" for code, n in sorted(statuses.items()))
    detail = (
        f"server CPU {cpu_ms:.2f} ms/request, {connections} conn, p50 {p50:.0f} ms, "
        f"p99 {p99:.0f} ms, statuses {rendered}"
    )
    if errors and any(int(x) for x in errors.groups()):
        detail += f", socket errors connect/read/write/timeout {'/'.join(errors.groups())}"
    return Measure(f"wrk {mode}", rate, detail, statuses)


def fill_read_days(url: str, first_day: date) -> int:
    """Give every room a realistic day on the first READ_DAYS days: hourly bookings
    09:00–17:00 where free. Returns the number of reservations added."""
    import psycopg

    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo) as conn:
        cursor = conn.execute(
            """
            INSERT INTO reservation
                (room_id, reserved_date, start_minute, end_minute, user_id, status, created_at)
            SELECT room_id, %(first)s::date + d, h * 60, h * 60 + 60,
                   'load' || lpad(((room_id * 7 + d + h) %% 100)::text, 4, '0'), 'ACTIVE', now()
            FROM generate_series(1, %(rooms)s) AS room_id,
                 generate_series(0, %(days)s - 1) AS d,
                 generate_series(9, 16) AS h
            ON CONFLICT DO NOTHING
            """,
            {"first": first_day, "rooms": ROOMS, "days": READ_DAYS},
        )
        return cursor.rowcount


def fill_read_days_sqlite(path: Path, first_day: date) -> None:
    """The same realistic days on SQLite (OR IGNORE skips a slot taken by the writes)."""
    import sqlite3

    with sqlite3.connect(path) as conn:
        # No exclusion constraint on SQLite: skip hours that overlap an existing booking.
        conn.execute(
            """
            WITH RECURSIVE d(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM d WHERE n < ? - 1),
                 h(n) AS (SELECT 9 UNION ALL SELECT n + 1 FROM h WHERE n < 16)
            INSERT INTO reservation
                (room_id, reserved_date, start_minute, end_minute, user_id, status, created_at)
            SELECT m.room_id, date(?, '+' || d.n || ' days'), h.n * 60, h.n * 60 + 60,
                   'load' || substr('0000' || ((m.room_id * 7 + d.n + h.n) % 100), -4), 'ACTIVE',
                   strftime('%Y-%m-%d %H:%M:%f', 'now')
            FROM meeting_room AS m, d, h
            WHERE NOT EXISTS (
                SELECT 1 FROM reservation AS o
                WHERE o.room_id = m.room_id AND o.reserved_date = date(?, '+' || d.n || ' days')
                  AND o.status = 'ACTIVE'
                  AND o.start_minute < h.n * 60 + 60 AND o.end_minute > h.n * 60)
            """,
            (READ_DAYS, first_day.isoformat(), first_day.isoformat()),
        )


@contextmanager
def server_with_tokens(
    options: harness.ServerOptions, dataset: harness.Dataset, workdir: Path, logins: int
) -> Iterator[tuple[harness.RunningServer, Path]]:
    with harness.running_server(options) as server:
        tokens = harness.login_tokens(server.base_url, dataset.user_ids[:logins], dataset.password)
        token_file = workdir / f"tokens-{options.scheme}.txt"
        token_file.write_text("\n".join(tokens) + "\n")
        yield server, token_file
        tracebacks = server.count_in_log("Traceback")
        if tracebacks:
            log = server.log_path.read_text(errors="replace").splitlines()
            # A traceback may also sit inside a structured log line, not at its start.
            start = next(i for i, line in enumerate(log) if "Traceback" in line)
            # The exception line is the first unindented line after the frames.
            end = next((i for i in range(start + 1, len(log)) if not log[i].startswith(" ")), start)
            kept = Path(tempfile.gettempdir()) / f"mrs-bench-{server.log_path.name}"
            shutil.copyfile(server.log_path, kept)
            print(f"warning: {tracebacks} tracebacks in the server log ({kept}); the first:")
            print("\n".join("    " + line for line in log[max(start, end - 4) : end + 1]))


def day_file(workdir: Path, name: str, days: list[date]) -> Path:
    path = workdir / name
    path.write_text("\n".join(day.isoformat() for day in days) + "\n")
    return path


def alternate(
    servers: dict[str, tuple[harness.RunningServer, Path]],
    kind: str,
    *,
    days: Path,
    connections: int,
    seconds: int,
    rounds: int,
    page: str = "",
) -> dict[str, Measure]:
    """Measure one kind of request on several servers in alternating turns (A B, B A, …)
    and average each server's rate: a slow spell of the machine then hits both sides
    alike, which measuring one side after the other does not give (docs/performance.md)."""
    labels = list(servers)
    rates: dict[str, list[float]] = {label: [] for label in labels}
    last: dict[str, Measure] = {}
    for turn in range(rounds):
        for label in labels if turn % 2 == 0 else labels[::-1]:
            server, tokens = servers[label]
            measure = wrk(
                server,
                kind,
                tokens=tokens,
                days=days,
                connections=connections,
                seconds=seconds,
                page=page,
            )
            rates[label].append(measure.rate)
            last[label] = measure
    return {
        label: Measure(
            f"{label} {kind}",
            sum(values) / len(values),
            f"mean of {len(values)} turns of {seconds} s: "
            + " / ".join(f"{v:,.0f}" for v in values)
            + f"; last turn {last[label].detail}",
            last[label].statuses,
        )
        for label, values in rates.items()
    }


def alternate_kinds(
    served: tuple[harness.RunningServer, Path],
    kinds: list[str],
    *,
    days: Path,
    connections: int,
    seconds: int,
    rounds: int,
) -> dict[str, Measure]:
    """Several kinds of request on one server in alternating turns (A B, B A, …), each
    kind's rate averaged: as `alternate`, for two ways of doing the same thing."""
    server, tokens = served
    rates: dict[str, list[float]] = {kind: [] for kind in kinds}
    last: dict[str, Measure] = {}
    for turn in range(rounds):
        for kind in kinds if turn % 2 == 0 else kinds[::-1]:
            measure = wrk(
                server, kind, tokens=tokens, days=days, connections=connections, seconds=seconds
            )
            rates[kind].append(measure.rate)
            last[kind] = measure
    return {
        kind: Measure(
            kind,
            sum(values) / len(values),
            f"mean of {len(values)} turns of {seconds} s: "
            + " / ".join(f"{v:,.0f}" for v in values)
            + f"; last turn {last[kind].detail}",
            last[kind].statuses,
        )
        for kind, values in rates.items()
    }


def ratio(name: str, top: Measure, bottom: Measure, target: float | None) -> str:
    value = top.rate / bottom.rate if bottom.rate else float("nan")
    verdict = (
        ""
        if target is None
        else (" (target ≥ {:.2f}: {})".format(target, "met" if value >= target else "NOT met"))
    )
    return f"{name:<34} {value:6.3f}  = {top.rate:,.0f} / {bottom.rate:,.0f}{verdict}"


def absolute(name: str, measure: Measure, target: float) -> str:
    verdict = "met" if measure.rate >= target else "NOT met"
    return f"{name:<34} {measure.rate:,.0f}/s (target ≥ {target:,.0f}/s: {verdict})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--connections", type=int, default=100, help="wrk connections")
    parser.add_argument("--pgbench-clients", type=int, default=10)
    parser.add_argument("--logins", type=int, default=20, help="users whose tokens wrk uses")
    parser.add_argument("--phases", default="pg,sqlite", help="comma list of: pg, sqlite, meetings")
    parser.add_argument("--https", action="store_true", help="also measure HTTPS ÷ HTTP")
    parser.add_argument("--metrics", action="store_true", help="also measure metrics on ÷ off")
    parser.add_argument(
        "--turns", type=int, default=4, help="alternating turns per side in comparisons"
    )
    parser.add_argument("--ab-env", action="append", default=[], metavar="MRS_X=VALUE",
                        help="also measure with ÷ without this server setting (repeatable)")  # fmt: skip
    parser.add_argument(
        "--page", default="", help="also measure this HTML page path ({date} is replaced)"
    )
    parser.add_argument("--server-env", action="append", default=[], metavar="MRS_X=VALUE")
    args = parser.parse_args(argv)
    phases = set(args.phases.split(","))
    base_env = dict(item.split("=", 1) for item in args.server_env)
    seconds, conns = args.duration, args.connections
    results: dict[str, Measure] = {}
    lines: list[str] = []

    def record(key: str, measure: Measure) -> Measure:
        results[key] = measure
        print(f"  {key:<26} {measure.rate:>10,.1f}/s  {measure.detail}", flush=True)
        return measure

    def http_round(
        prefix: str,
        options: harness.ServerOptions,
        dataset: harness.Dataset,
        workdir: Path,
        *,
        write_days: Path,
        read_days: Path,
        fill: object = None,
    ) -> None:
        with server_with_tokens(options, dataset, workdir, args.logins) as (server, tokens):
            record(
                f"{prefix}reserve",
                wrk(
                    server,
                    "reserve",
                    tokens=tokens,
                    days=write_days,
                    connections=conns,
                    seconds=seconds,
                ),
            )
            if callable(fill):
                fill()
            record(
                f"{prefix}room_day",
                wrk(
                    server,
                    "room_day",
                    tokens=tokens,
                    days=read_days,
                    connections=conns,
                    seconds=seconds,
                ),
            )
            record(
                f"{prefix}rooms",
                wrk(
                    server,
                    "rooms",
                    tokens=tokens,
                    days=read_days,
                    connections=conns,
                    seconds=seconds,
                ),
            )
            if args.page:
                record(
                    f"{prefix}page",
                    wrk(
                        server,
                        "page",
                        tokens=tokens,
                        days=read_days,
                        connections=conns,
                        seconds=seconds,
                        page=args.page,
                    ),
                )

    def compare(
        baseline: harness.ServerOptions,
        variants: list[tuple[str, harness.ServerOptions]],
        dataset: harness.Dataset,
        workdir: Path,
        write_days: Path,
        read_days: Path,
    ) -> None:
        """The baseline and each variant up at once, measured in alternating turns."""
        kinds = [("room_day", read_days), ("reserve", write_days)]
        if args.page:
            kinds.append(("page", read_days))
        for label, variant in variants:
            print(f"PostgreSQL, default vs {label} (alternating turns):", flush=True)
            for side in ("a", "b"):
                (workdir / side).mkdir(exist_ok=True)
            with ExitStack() as stack:
                servers = {
                    "default": stack.enter_context(
                        server_with_tokens(baseline, dataset, workdir / "a", args.logins)
                    ),
                    label: stack.enter_context(
                        server_with_tokens(variant, dataset, workdir / "b", args.logins)
                    ),
                }
                for kind, days in kinds:
                    measured = alternate(
                        servers,
                        kind,
                        days=days,
                        connections=conns,
                        seconds=max(2, seconds // 2),
                        rounds=args.turns,
                        page=args.page,
                    )
                    record(f"ab:default:{label}:{kind}", measured["default"])
                    record(f"ab:{label}:{label}:{kind}", measured[label])

    with tempfile.TemporaryDirectory(prefix="mrs-bench-") as tmp:
        workdir = Path(tmp)
        print(
            f"machine: {os.cpu_count()} cores; {seconds} s per measurement; {args.workers} workers; wrk {conns} connections, 2 threads"
        )
        if "pg" in phases:
            with harness.throwaway_postgres("mrs_bench") as url:
                dataset = harness.seed(url, workdir / "pg", rooms=ROOMS, users=100, days=WRITE_DAYS)
                first = dataset.days[0]
                write_days = day_file(workdir, "write-days.txt", dataset.days)
                read_days = day_file(workdir, "read-days.txt", dataset.days[:READ_DAYS])
                print("PostgreSQL:", flush=True)
                record(
                    "pgbench_insert",
                    pgbench(
                        url,
                        HERE / "pgbench" / "insert.sql",
                        first_day=first,
                        ndays=WRITE_DAYS,
                        clients=args.pgbench_clients,
                        seconds=seconds,
                    ),
                )
                harness.truncate_reservations(url)
                options = harness.ServerOptions(
                    database_url=url, data_dir=workdir / "pg", workers=args.workers, env=base_env
                )

                def fill_pg() -> None:
                    fill_read_days(url, first)
                    record(
                        "pgbench_room_day",
                        pgbench(
                            url,
                            HERE / "pgbench" / "room_day.sql",
                            first_day=first,
                            ndays=READ_DAYS,
                            clients=args.pgbench_clients,
                            seconds=seconds,
                        ),
                    )

                http_round(
                    "",
                    options,
                    dataset,
                    workdir,
                    write_days=write_days,
                    read_days=read_days,
                    fill=fill_pg,
                )
                comparisons: list[tuple[str, harness.ServerOptions]] = []
                if args.https:
                    comparisons.append(("https", replace(options, scheme="https")))
                if args.metrics:
                    off = {**base_env, "MRS_HTTP_METRICS_ENABLED": "false"}
                    comparisons.append(("metrics_off", replace(options, env=off)))
                for item in args.ab_env:
                    setting = dict([item.split("=", 1)])
                    comparisons.append((item, replace(options, env={**base_env, **setting})))
                if comparisons:
                    compare(options, comparisons, dataset, workdir, write_days, read_days)
        if "meetings" in phases:
            with harness.throwaway_postgres("mrs_bench") as url:
                dataset = harness.seed(
                    url, workdir / "meetings", rooms=ROOMS, users=100, days=WRITE_DAYS
                )
                write_days = day_file(workdir, "write-days.txt", dataset.days)
                options = harness.ServerOptions(
                    database_url=url,
                    data_dir=workdir / "meetings",
                    workers=args.workers,
                    env=base_env,
                )
                print(
                    "PostgreSQL, reserve with a title and attendees vs without (alternating turns):",
                    flush=True,
                )
                with server_with_tokens(options, dataset, workdir, args.logins) as pair:
                    measured = alternate_kinds(
                        pair,
                        ["reserve", "reserve_meeting"],
                        days=write_days,
                        connections=conns,
                        seconds=max(2, seconds // 2),
                        rounds=args.turns,
                    )
                record("meetings:reserve", measured["reserve"])
                record("meetings:reserve_meeting", measured["reserve_meeting"])
        if "sqlite" in phases:
            sqlite_path = workdir / "sqlite" / "bench.sqlite3"
            sqlite_url = f"sqlite:///{sqlite_path}"
            dataset = harness.seed(
                sqlite_url, workdir / "sqlite", rooms=ROOMS, users=100, days=WRITE_DAYS
            )
            write_days = day_file(workdir, "write-days.txt", dataset.days)
            read_days = day_file(workdir, "read-days.txt", dataset.days[:READ_DAYS])
            print("SQLite:", flush=True)
            options = harness.ServerOptions(
                database_url=sqlite_url,
                data_dir=workdir / "sqlite",
                workers=args.workers,
                env=base_env,
            )
            http_round(
                "sqlite_",
                options,
                dataset,
                workdir,
                write_days=write_days,
                read_days=read_days,
                fill=lambda: fill_read_days_sqlite(sqlite_path, dataset.days[0]),
            )

    print("\nratios (one run, both sides measured above):")
    r = results
    if "reserve" in r and "pgbench_insert" in r:
        lines.append(ratio("reserve ÷ pgbench insert", r["reserve"], r["pgbench_insert"], 0.25))
    if "room_day" in r and "pgbench_room_day" in r:
        lines.append(ratio("room's day ÷ pgbench read", r["room_day"], r["pgbench_room_day"], 0.30))
    for kind in ("reserve", "room_day", "rooms"):
        if kind in r and f"sqlite_{kind}" in r:
            lines.append(ratio(f"PostgreSQL ÷ SQLite ({kind})", r[kind], r[f"sqlite_{kind}"], 1.0))
    for kind in ("room_day", "reserve", "page"):
        if f"ab:https:https:{kind}" in r:
            lines.append(
                ratio(
                    f"HTTPS ÷ HTTP ({kind})",
                    r[f"ab:https:https:{kind}"],
                    r[f"ab:default:https:{kind}"],
                    0.90,
                )
            )
        if f"ab:metrics_off:metrics_off:{kind}" in r:
            lines.append(
                ratio(
                    f"metrics on ÷ off ({kind})",
                    r[f"ab:default:metrics_off:{kind}"],
                    r[f"ab:metrics_off:metrics_off:{kind}"],
                    0.95,
                )
            )
        for item in args.ab_env:
            if f"ab:{item}:{item}:{kind}" in r:
                lines.append(
                    ratio(
                        f"{item} ÷ default ({kind})",
                        r[f"ab:{item}:{item}:{kind}"],
                        r[f"ab:default:{item}:{kind}"],
                        None,
                    )
                )
    if "meetings:reserve_meeting" in r:
        lines.append(
            ratio(
                "reserve, meeting ÷ plain",
                r["meetings:reserve_meeting"],
                r["meetings:reserve"],
                0.90,
            )
        )
    if "reserve" in r:
        lines.append(absolute("reserve, absolute", r["reserve"], 1450))
    if "page" in r:
        lines.append(absolute(f"page {args.page}, absolute", r["page"], 400))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
