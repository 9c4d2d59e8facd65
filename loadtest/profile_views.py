"""In-process CPU per request of the views that help find a slot, less noisy than wrk on a
busy machine: the app is called through httpx's ASGI transport (no sockets, no server
process), and the figure is the process CPU time over N requests (which includes the
client's share, the same for every version of the code).

    .venv/bin/python loadtest/profile_views.py                 # PostgreSQL, all views
    .venv/bin/python loadtest/profile_views.py --sqlite        # the embedded default
    .venv/bin/python loadtest/profile_views.py --only timeline --profile 25

The data is bench_views.py's: rooms opened on 7 days, booked every other hour from 09:00.
`--profile N` prints the cProfile functions of the view with the most cumulative time.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `loadtest` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from loadtest import harness
from loadtest.bench_views import book_every_other_hour, book_every_other_hour_sqlite
from mrs.app import create_app

VIEWS = {
    "search": (1000, "/api/rooms/available?date={date}&start_time=10:00&end_time=11:00&capacity=6"),
    "timeline": (200, "/timeline?date={date}"),
    "timeline_api": (200, "/api/timeline?date={date}"),
    "week": (50, "/rooms/1/week?date={date}"),
}


@contextmanager
def database(sqlite: bool, workdir: Path) -> Iterator[str]:
    if sqlite:
        yield f"sqlite:///{workdir / 'data' / 'views.sqlite3'}"
    else:
        with harness.throwaway_postgres("mrs_profile") as url:
            yield url


async def measure(
    url: str,
    workdir: Path,
    path: str,
    requests: int,
    profile: int,
    sort: str,
    save: Path | None = None,
) -> tuple[float, float]:
    """CPU and wall time (ms) per request of `path`, as a logged-in user."""
    settings = harness.settings_for(url, workdir / "data")
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            login = await http.post(
                "/api/auth/login",
                json={"user_id": f"{harness.USER_PREFIX}0001", "password": harness.LOAD_PASSWORD},
            )
            login.raise_for_status()
            http.cookies.set("mrs_session", login.json()["access_token"])
            for _ in range(5):  # warm up: compiled statements, templates, pools
                answer = await http.get(path)
                assert answer.status_code == 200, (answer.status_code, answer.text[:300])
            if save is not None:
                name = path.strip("/").split("?")[0].replace("/", "_")
                (save / f"{name}.out").write_bytes(answer.content)
            profiler = cProfile.Profile() if profile else None
            started = time.process_time()
            wall = time.perf_counter()
            if profiler:
                profiler.enable()
            for _ in range(requests):
                answer = await http.get(path)
                assert answer.status_code == 200, answer.status_code
            if profiler:
                profiler.disable()
            cpu_ms = (time.process_time() - started) * 1000 / requests
            wall_ms = (time.perf_counter() - wall) * 1000 / requests
            if profiler:
                pstats.Stats(profiler).sort_stats(sort).print_stats(profile)
            return cpu_ms, wall_ms
    finally:
        await app.state.db.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=50, help="requests per view")
    parser.add_argument("--only", default=",".join(VIEWS), help="comma list of " + ", ".join(VIEWS))
    parser.add_argument("--sqlite", action="store_true", help="the embedded SQLite database")
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="print N functions")
    parser.add_argument("--save", type=Path, help="write each view's last answer here")
    parser.add_argument("--sort", default="tottime", help="cProfile order (tottime, cumulative)")
    args = parser.parse_args(argv)
    by_rooms: dict[int, list[str]] = {}
    for name in args.only.split(","):
        by_rooms.setdefault(VIEWS[name][0], []).append(name)
    for rooms, names in sorted(by_rooms.items()):
        with tempfile.TemporaryDirectory() as tmp, database(args.sqlite, Path(tmp)) as url:
            workdir = Path(tmp)
            dataset = harness.seed(url, workdir / "data", rooms=rooms, days=7)
            if args.sqlite:
                booked = book_every_other_hour_sqlite(url, rooms)
            else:
                booked = book_every_other_hour(url, rooms)
            day = dataset.days[1].isoformat()
            for name in names:
                path = VIEWS[name][1].format(date=day)
                cpu_ms, wall_ms = asyncio.run(
                    measure(url, workdir, path, args.requests, args.profile, args.sort, args.save)
                )
                print(
                    f"{name:<13} {rooms:>5} rooms {booked:>6} reservations: "
                    f"{cpu_ms:8.2f} ms CPU, {wall_ms:8.2f} ms wall per request "
                    f"({args.requests} requests)",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
