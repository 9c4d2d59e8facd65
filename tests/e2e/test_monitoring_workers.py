"""/metrics from a real `mrs serve --workers 2` counts the requests of both workers."""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support import free_port

TOKEN = "management-token-for-e2e-tests-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Server:
    base: str
    process: subprocess.Popen[bytes]
    metrics_dir: Path

    def live_workers(self) -> set[int]:
        """Pids of the server's worker processes that are alive (not zombies)."""
        pids: set[int] = set()
        for proc_stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = proc_stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[1]) != self.process.pid or fields[0] == "Z":
                continue
            # multiprocessing's helper process is a child too, but serves no requests.
            with contextlib.suppress(OSError):
                if b"resource_tracker" in (proc_stat.parent / "cmdline").read_bytes():
                    continue
            pids.add(int(proc_stat.parent.name))
        return pids


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[Server]:
    port = free_port()
    env = os.environ | {
        "MRS_DATABASE_URL": database_url,
        "MRS_DATA_DIR": str(tmp_path / "data"),
        "MRS_SECRET_KEY": "e2e-secret-key-0123456789-0123456789-0123456789",
        "MRS_MANAGEMENT_TOKEN": TOKEN,
        "MRS_LOG_LEVEL": "warning",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    # A stale file from an "earlier run" must not be counted.
    stale_dir = tmp_path / "data" / "metrics"
    stale_dir.mkdir(parents=True)
    (stale_dir / "counter_999999.db").write_bytes(b"stale")
    process = subprocess.Popen(
        [sys.executable, "-m", "mrs", "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        # The loosest umask: the metric files must still be the service user's alone.
        umask=0,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/health/readiness", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
            time.sleep(0.3)
        else:
            pytest.fail("the server did not become ready within 60 s")
        yield Server(base, process, tmp_path / "data" / "metrics")
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def fresh_get(url: str, headers: dict[str, str] | None = None) -> httpx.Response:
    """One request on its own connection, so the kernel may hand it to either worker."""
    with httpx.Client(timeout=10) as client:
        return client.get(url, headers={"Connection": "close"} | (headers or {}))


def counted(metrics_text: str, route: str) -> float:
    total = 0.0
    for family in text_string_to_metric_families(metrics_text):
        for sample in family.samples:
            if sample.name == "mrs_http_requests_total" and sample.labels["route"] == route:
                total += sample.value
    return total


def gauge(metrics_text: str, name: str) -> float:
    for family in text_string_to_metric_families(metrics_text):
        for sample in family.samples:
            if sample.name == name:
                return sample.value
    raise AssertionError(f"{name} not exported")


def test_metrics_count_requests_from_every_worker(server: Server) -> None:
    base = server.base
    pids: set[int] = set()
    health_calls = 0
    for _ in range(60):
        response = fresh_get(f"{base}/health", headers=AUTH)
        health_calls += 1
        assert response.status_code == 200
        pids.add(response.json()["components"]["memory"]["details"]["pid"])
        if len(pids) == 2 and health_calls >= 10:
            break
    assert len(pids) == 2, "both workers should have answered"

    liveness_calls = 25
    for _ in range(liveness_calls):
        assert fresh_get(f"{base}/health/liveness").status_code == 200

    # Every request is counted, whichever worker answered it and whichever one is scraped
    # (each worker flushes its batched figures every second).
    deadline = time.monotonic() + 10
    while True:
        scrape = fresh_get(f"{base}/metrics", headers=AUTH)
        assert scrape.status_code == 200
        text = scrape.text
        if counted(text, "/health/liveness") >= liveness_calls or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert counted(text, "/health/liveness") == liveness_calls
    assert counted(text, "/health") == health_calls
    assert gauge(text, "mrs_processes") == 2
    assert gauge(text, "mrs_process_resident_memory_bytes") > 0
    assert fresh_get(f"{base}/metrics").status_code == 401


def answering_pids(base: str, want: int) -> set[int]:
    """Pids of the workers that answer /health, asking until `want` of them did."""
    pids: set[int] = set()
    for _ in range(80):
        response = fresh_get(f"{base}/health", headers=AUTH)
        pids.add(response.json()["components"]["memory"]["details"]["pid"])
        if len(pids) >= want:
            break
    return pids


def test_a_worker_killed_with_sigkill_is_no_longer_counted(server: Server) -> None:
    victim = min(answering_pids(server.base, 2))
    before = gauge(fresh_get(f"{server.base}/metrics", headers=AUTH).text, "mrs_processes")
    assert before == 2
    os.kill(victim, signal.SIGKILL)

    # uvicorn may start a replacement; either way the gauge must equal the live workers.
    deadline = time.monotonic() + 30
    while True:
        live = server.live_workers() - {victim}
        counted_now = gauge(fresh_get(f"{server.base}/metrics", headers=AUTH).text, "mrs_processes")
        victim_files = [p for p in server.metrics_dir.glob(f"gauge_live*_{victim}.db")]
        if counted_now == len(live) and not victim_files:
            break
        assert time.monotonic() < deadline, (
            f"mrs_processes is {counted_now} with {len(live)} live workers "
            f"(killed {victim}, files: {sorted(p.name for p in server.metrics_dir.iterdir())})"
        )
        time.sleep(0.5)
    print(f"\nafter SIGKILL of a worker: mrs_processes {before:g} -> {counted_now:g}")
    assert not any(str(victim) in path.name for path in server.metrics_dir.glob("gauge_live*"))


def test_metric_files_are_the_service_users_alone(server: Server) -> None:
    assert fresh_get(f"{server.base}/metrics", headers=AUTH).status_code == 200
    assert stat.S_IMODE(server.metrics_dir.stat().st_mode) == 0o700
    files = list(server.metrics_dir.glob("*.db"))
    assert files
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
