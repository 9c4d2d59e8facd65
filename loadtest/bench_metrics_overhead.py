#!/usr/bin/env python3
"""Throughput with HTTP metrics on and off, in one run, and their ratio (target >= 0.95).

Starts two `mrs serve` (PostgreSQL, 2 workers each, demo data, one database), one with
MRS_HTTP_METRICS_ENABLED=true and one with false, and drives them in turn with wrk,
alternating the order each round so that drift on a noisy machine hits both sides alike. Two endpoints: an authenticated
room list (a typical read) and /health/liveness (the cheapest request, so the worst case
for a fixed per-request overhead).

    .venv/bin/python loadtest/bench_metrics_overhead.py --seconds 10 --rounds 4

Needs wrk and a PostgreSQL server (MRS_TEST_DATABASE_URL's server; a throwaway database
is created and dropped).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.support import free_port, throwaway_database


def start_server(
    database_url: str, data_dir: Path, metrics_on: bool, workers: int
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = os.environ | {
        "MRS_DATABASE_URL": database_url,
        "MRS_DATA_DIR": str(data_dir),
        "MRS_SECRET_KEY": "bench-secret-key-0123456789-0123456789-0123456789",
        "MRS_HTTP_METRICS_ENABLED": "true" if metrics_on else "false",
        "MRS_ACCESS_LOG": "false",
        "MRS_LOG_LEVEL": "warning",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mrs",
            "serve",
            "--demo",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health/readiness", timeout=2).status_code == 200:
                return process, base
        except httpx.HTTPError:
            pass
        if process.poll() is not None:
            raise SystemExit("the server exited during start-up")
        time.sleep(0.3)
    process.kill()
    raise SystemExit("the server did not become ready")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def wrk(url: str, seconds: int, connections: int, token: str | None) -> float:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if token:
        command[1:1] = ["-H", f"Authorization: Bearer {token}"]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if errors:
        raise SystemExit(f"wrk saw {errors.group(1)} failed responses:\n{output}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if match is None:
        raise SystemExit(f"cannot read wrk's output:\n{output}")
    return float(match.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration per measurement")
    parser.add_argument("--rounds", type=int, default=4, help="on/off pairs")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed")

    tomorrow = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).date().isoformat()
    paths = {"rooms": f"/api/rooms?date={tomorrow}", "liveness": "/health/liveness"}
    ratios: dict[str, list[float]] = {name: [] for name in paths}
    rates: dict[tuple[str, bool], list[float]] = {}
    with throwaway_database("mrs_bench") as database_url, tempfile.TemporaryDirectory() as tmp:
        # Both servers run for the whole run; only the one being measured gets traffic.
        servers = {
            on: start_server(database_url, Path(tmp) / ("on" if on else "off"), on, args.workers)
            for on in (True, False)
        }
        try:
            tokens = {on: login(base) for on, (_, base) in servers.items()}
            for on, (_, base) in servers.items():
                for path in paths.values():
                    wrk(base + path, 2, args.connections, tokens[on])  # warm-up
            for round_number in range(args.rounds):
                order = (True, False) if round_number % 2 == 0 else (False, True)
                for name, path in paths.items():
                    pair: dict[bool, float] = {}
                    for on in order:
                        base = servers[on][1]
                        pair[on] = wrk(base + path, args.seconds, args.connections, tokens[on])
                        rates.setdefault((name, on), []).append(pair[on])
                    ratios[name].append(pair[True] / pair[False])
                    print(
                        f"round {round_number + 1} {name:<9} on {pair[True]:9.1f} req/s  "
                        f"off {pair[False]:9.1f} req/s  on/off {pair[True] / pair[False]:.3f}",
                        flush=True,
                    )
        finally:
            for process, _ in servers.values():
                stop_server(process)
    print()
    for name in paths:
        on = statistics.mean(rates[(name, True)])
        off = statistics.mean(rates[(name, False)])
        print(
            f"{name:<9} metrics on {on:9.1f} req/s  off {off:9.1f} req/s  "
            f"on/off = {on / off:.3f} (median of per-round ratios {statistics.median(ratios[name]):.3f})"
        )
    print("target: on/off >= 0.95")


def login(base: str) -> str:
    response = httpx.post(
        f"{base}/api/auth/login",
        json={"user_id": "alice", "password": "blue-meeting-42"},
        timeout=30,
    )
    response.raise_for_status()
    token: str = response.json()["access_token"]
    return token


if __name__ == "__main__":
    main()
