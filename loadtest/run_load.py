"""Run the 100-user load test end to end, headless, and judge it.

    .venv/bin/python loadtest/run_load.py --users 100 --duration 60s

Creates a throwaway PostgreSQL database (50 rooms opened for the days used, N users),
starts a real `mrs serve` on it, runs the Locust scenario (loadtest/locustfile.py) in its
own virtual environment, prints a summary, then checks the database. Exits non-zero on any
5xx, on any failure other than the expected reservation conflicts (409), when no conflict
happened at all (the race was not exercised), on any overlapping pair of active
reservations found by SQL, or when the database disagrees with what the clients saw.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import venv
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `loadtest` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from loadtest import harness

LOCUST_VENV = harness.REPO / ".venv-load"
LOCUSTFILE = Path(__file__).with_name("locustfile.py")


def locust_executable() -> Path:
    """Locust in its own virtual environment (created on first use), never the app's."""
    override = os.environ.get("MRS_LOCUST")
    if override:
        return Path(override)
    exe = LOCUST_VENV / "bin" / "locust"
    if not exe.exists():
        print(f"Installing Locust into {LOCUST_VENV} ...", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(LOCUST_VENV)
        subprocess.run(
            [str(LOCUST_VENV / "bin" / "pip"), "install", "--quiet", "-r",
             str(Path(__file__).with_name("requirements.txt"))],
            check=True,
        )  # fmt: skip
    return exe


def parse_duration(value: str) -> int:
    """Seconds from '90', '90s', '2m' or '1m30s'."""
    match = re.fullmatch(r"(?:(\d+)m)?(?:(\d+)s?)?", value.strip())
    if not match or not any(match.groups()):
        raise argparse.ArgumentTypeError(f"not a duration: {value!r}")
    return int(match.group(1) or 0) * 60 + int(match.group(2) or 0)


@dataclass
class Verdict:
    lines: list[str]
    problems: list[str]


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def judge(
    result: dict[str, dict[str, object]],
    integrity: harness.IntegrityReport,
    *,
    duration: int,
    max_unexpected_ratio: float,
) -> Verdict:
    """The summary table and the list of reasons to fail (empty when the run passed)."""
    statuses: dict[str, dict[str, int]] = result["statuses"]  # type: ignore[assignment]
    times: dict[str, list[float]] = result["times_ms"]  # type: ignore[assignment]
    lines = [
        f"{'request':<22}{'count':>8}{'req/s':>8}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}  statuses",
    ]
    total = server_errors = conflicts = unexpected = 0
    expected_ok = {
        "login": "200", "rooms of a date": "200", "room's day": "200", "reserve": "201",
        "reserve (contested)": "201", "cancel": "204", "my reservations": "200",
    }  # fmt: skip
    for name in sorted(statuses):
        codes = statuses[name]
        count = sum(codes.values())
        total += count
        server_errors += sum(n for code, n in codes.items() if code.startswith("5"))
        name_conflicts = codes.get("409", 0) if name.startswith("reserve") else 0
        conflicts += name_conflicts
        unexpected += count - codes.get(expected_ok.get(name, "200"), 0) - name_conflicts
        rendered = " ".join(f"{code}:{n}" for code, n in sorted(codes.items()))
        t = times.get(name, [])
        lines.append(
            f"{name:<22}{count:>8}{count / duration:>8.1f}{percentile(t, 0.5):>8.0f}"
            f"{percentile(t, 0.95):>8.0f}{percentile(t, 0.99):>8.0f}  {rendered}"
        )
    created = sum(statuses.get(n, {}).get("201", 0) for n in ("reserve", "reserve (contested)"))
    cancelled = statuses.get("cancel", {}).get("204", 0)
    lines += [
        f"total {total} requests in {duration} s = {total / max(duration, 1):.1f} req/s; "
        f"conflicts (409, expected) {conflicts} = {conflicts / max(total, 1):.1%}; "
        f"unexpected failures {unexpected} = {unexpected / max(total, 1):.2%}",
        f"database: {integrity.active} active, {integrity.cancelled} cancelled reservations; "
        f"overlapping active pairs: {integrity.overlapping_pairs}",
    ]
    problems = []
    if total == 0:
        problems.append("no request was made")
    if server_errors:
        problems.append(f"{server_errors} server errors (5xx)")
    if unexpected / max(total, 1) > max_unexpected_ratio:
        problems.append(
            f"failure ratio {unexpected / max(total, 1):.2%} beyond the expected conflicts "
            f"(allowed {max_unexpected_ratio:.2%})"
        )
    if statuses.get("reserve (contested)") and conflicts == 0:
        problems.append("no reservation conflict happened: the race was not exercised")
    if integrity.overlapping_pairs:
        problems.append(
            f"{integrity.overlapping_pairs} overlapping active reservations (double booking)"
        )
    if integrity.active != created - cancelled or integrity.cancelled != cancelled:
        problems.append(
            f"the database disagrees with the clients: {integrity.active} active / "
            f"{integrity.cancelled} cancelled rows, clients saw {created} created and "
            f"{cancelled} cancelled"
        )
    return Verdict(lines=lines, problems=problems)


def run(args: argparse.Namespace) -> int:
    locust = locust_executable()
    extra_env = dict(item.split("=", 1) for item in args.server_env)
    with (
        tempfile.TemporaryDirectory(prefix="mrs-load-") as tmp,
        harness.throwaway_postgres() as url,
    ):
        workdir = Path(tmp)
        dataset = harness.seed(url, workdir, rooms=args.rooms, users=args.users, days=args.days)
        options = harness.ServerOptions(
            database_url=url, data_dir=workdir, workers=args.workers, scheme=args.scheme,
            certfile=args.certfile, keyfile=args.keyfile, env=extra_env,
        )  # fmt: skip
        with harness.running_server(options) as server:
            print(f"server: {server.base_url} ({args.workers} workers, PostgreSQL)", flush=True)
            result_path = workdir / "locust-result.json"
            env = {
                **os.environ,
                "MRS_LOAD_USERS": ",".join(dataset.user_ids),
                "MRS_LOAD_PASSWORD": dataset.password,
                "MRS_LOAD_DAYS": ",".join(day.isoformat() for day in dataset.days),
                "MRS_LOAD_CONTESTED": str(args.contested),
                "MRS_LOAD_RESULT": str(result_path),
                "MRS_LOAD_WAIT": args.wait,
            }
            command = [
                str(locust), "-f", str(LOCUSTFILE), "--headless", "--only-summary",
                "--users", str(args.users), "--spawn-rate", str(args.spawn_rate),
                "--run-time", f"{args.duration}s", "--stop-timeout", "10",
                "--host", server.base_url, "--loglevel", "WARNING",
            ]  # fmt: skip
            # FastHttpUser does not verify certificates by default: ours is self-signed.
            completed = subprocess.run(command, env=env, check=False)
            server_tracebacks = server.count_in_log("Traceback")
            server_errors = [
                line
                for line in server.log_path.read_text(errors="replace").splitlines()
                if "ERROR" in line
            ]
        if not result_path.exists():
            print(f"error: Locust wrote no result (exit {completed.returncode})", file=sys.stderr)
            return 2
        result = json.loads(result_path.read_text())
        integrity = harness.check_integrity(url, workdir)
    verdict = judge(
        result, integrity, duration=args.duration, max_unexpected_ratio=args.max_unexpected_ratio
    )
    if server_tracebacks:
        verdict.problems.append(f"{server_tracebacks} tracebacks in the server log")
    print("\n".join(verdict.lines))
    if verdict.problems:
        print("FAILED: " + "; ".join(verdict.problems))
        for line in server_errors[:10]:
            print(f"  server log: {line}")
        return 1
    print("PASSED: no server errors, no unexpected failures, no double booking")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=100, help="concurrent users (100)")
    parser.add_argument("--duration", type=parse_duration, default=60, help="e.g. 60s, 2m")
    parser.add_argument("--spawn-rate", type=float, default=20, help="users started per second")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--rooms", type=int, default=50)
    parser.add_argument("--days", type=int, default=5, help="days opened, from tomorrow")
    parser.add_argument("--contested", type=float, default=0.25,
                        help="share of reservations aimed at a few hot slots")  # fmt: skip
    parser.add_argument("--wait", default="0.2,1.0", help="think time min,max in seconds")
    parser.add_argument(
        "--scheme", choices=["http", "https"], default="https", help="https as in production"
    )
    parser.add_argument(
        "--certfile", type=Path, help="TLS certificate (https; default: a throwaway one)"
    )
    parser.add_argument("--keyfile", type=Path, help="TLS key (https)")
    parser.add_argument("--server-env", action="append", default=[], metavar="MRS_X=VALUE",
                        help="extra setting for the server (repeatable)")  # fmt: skip
    parser.add_argument("--max-unexpected-ratio", type=float, default=0.0,
                        help="failures other than 409 conflicts allowed, as a ratio (0)")  # fmt: skip
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
