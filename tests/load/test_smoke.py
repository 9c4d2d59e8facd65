"""CI's short run of the 100-user load test against a real server on PostgreSQL, over
HTTPS (run_load.py's default, with a throwaway certificate).

The full run and its figures are in docs/performance.md. Locust runs in its own process
and virtual environment (gevent stays out of this one).

Both tests run while the usual ports (8000, 8080, 8443) are held by another listener, as
they are on many developers' machines: the harness must pick free ports for everything.
"""

from __future__ import annotations

import errno
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
from loadtest import harness

REPO = Path(__file__).resolve().parents[2]
USUAL_PORTS = (8000, 8080, 8443)


@contextmanager
def usual_ports_taken() -> Iterator[None]:
    """Listen on 8000, 8080 and 8443 for the block; a port already taken stays as it is
    (another program holds it, which is the situation to survive)."""
    with ExitStack() as stack:
        for port in USUAL_PORTS:
            sock = stack.enter_context(socket.socket())
            try:
                sock.bind(("127.0.0.1", port))
            except OSError as error:
                if error.errno != errno.EADDRINUSE:
                    raise
                continue
            sock.listen()
        yield


def test_the_load_harness_serves_https_while_the_usual_ports_are_taken(
    database_url: str, tmp_path: Path
) -> None:
    options = harness.ServerOptions(database_url=database_url, data_dir=tmp_path, scheme="https")
    with usual_ports_taken(), harness.running_server(options) as server:
        port = int(server.base_url.rsplit(":", 1)[1])
        assert port not in USUAL_PORTS
        assert harness._http_get(f"{server.base_url}/health/liveness") == 200
    assert "address already in use" not in server.log_tail(200).lower()


@pytest.mark.slow
def test_hundred_users_for_thirty_seconds_without_errors_or_double_booking() -> None:
    with usual_ports_taken():
        completed = subprocess.run(
            [
                sys.executable, str(REPO / "loadtest" / "run_load.py"),
                "--users", "100", "--duration", "30s", "--spawn-rate", "25", "--scheme", "https",
            ],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )  # fmt: skip
    summary = completed.stdout[-4000:] + completed.stderr[-2000:]
    assert completed.returncode == 0, summary
    assert "PASSED" in completed.stdout
    assert "overlapping active pairs: 0" in completed.stdout
    assert "https://" in completed.stdout + completed.stderr, summary
