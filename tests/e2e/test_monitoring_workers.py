"""/metrics from a real `mrs serve --workers 2` counts the requests of both workers."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support import free_port

TOKEN = "management-token-for-e2e-tests-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}

pytestmark = pytest.mark.slow


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[str]:
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
        yield base
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


def test_metrics_count_requests_from_every_worker(server: str) -> None:
    pids: set[int] = set()
    health_calls = 0
    for _ in range(60):
        response = fresh_get(f"{server}/health", headers=AUTH)
        health_calls += 1
        assert response.status_code == 200
        pids.add(response.json()["components"]["memory"]["details"]["pid"])
        if len(pids) == 2 and health_calls >= 10:
            break
    assert len(pids) == 2, "both workers should have answered"

    liveness_calls = 25
    for _ in range(liveness_calls):
        assert fresh_get(f"{server}/health/liveness").status_code == 200

    # Every request is counted, whichever worker answered it and whichever one is scraped
    # (each worker flushes its batched figures every second).
    deadline = time.monotonic() + 10
    while True:
        scrape = fresh_get(f"{server}/metrics", headers=AUTH)
        assert scrape.status_code == 200
        text = scrape.text
        if counted(text, "/health/liveness") >= liveness_calls or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert counted(text, "/health/liveness") == liveness_calls
    assert counted(text, "/health") == health_calls
    assert gauge(text, "mrs_processes") == 2
    assert gauge(text, "mrs_process_resident_memory_bytes") > 0
    assert fresh_get(f"{server}/metrics").status_code == 401
