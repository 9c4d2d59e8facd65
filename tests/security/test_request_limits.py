"""Greedy and slow clients against a real `mrs serve`: huge bodies, trickled heads and bodies.

Raw sockets, because an HTTP client library would not send a body this wrong on purpose.
The server runs with short timeouts (settings) so every wait here stays bounded.
"""

from __future__ import annotations

import contextlib
import select
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests import support

pytestmark = pytest.mark.slow

HEADER_TIMEOUT = 2.0
BODY_TIMEOUT = 3.0
MIB = 1024 * 1024


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, template_database: str
) -> Iterator[support.ServerProcess]:
    tmp = tmp_path_factory.mktemp("limits")
    with (
        support.throwaway_database("mrs_limits", template=template_database) as url,
        support.running_server(
            database_url=url,
            data_dir=tmp / "data",
            env={
                "MRS_HEADER_TIMEOUT_SECONDS": str(HEADER_TIMEOUT),
                "MRS_BODY_TIMEOUT_SECONDS": str(BODY_TIMEOUT),
                "MRS_LOG_LEVEL": "warning",
                "MRS_RUN_BACKGROUND_JOBS": "false",
            },
        ) as running,
    ):
        _wait_until_answering(running)
        yield running


def _wait_until_answering(server: support.ServerProcess) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{server.base_url}/health/liveness", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server not answering:\n{server.log()}")


def _address(server: support.ServerProcess) -> tuple[str, int]:
    host, port = server.base_url.removeprefix("http://").split(":")
    return host, int(port)


def _memory_kib(server: support.ServerProcess) -> dict[str, int]:
    """Resident (VmRSS) and peak resident (VmHWM) memory of the one worker process."""
    status = Path(f"/proc/{server.process.pid}/status").read_text()
    values = {}
    for line in status.splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0])
    return values


def _read_response_head(sock: socket.socket, timeout: float) -> bytes:
    """What the server answered before closing (or until the head is complete)."""
    sock.settimeout(timeout)
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    return data


def _login_head(extra: str) -> bytes:
    return (
        "POST /api/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: application/json\r\n{extra}\r\n"
    ).encode()


def test_a_100_mb_body_is_refused_before_it_is_read(server: support.ServerProcess) -> None:
    # Warm up: the first login loads what a login needs, so it is not counted below.
    warm = httpx.post(
        f"{server.base_url}/api/auth/login",
        json={"user_id": "nobody", "password": "x" * 12},
        timeout=30,
    )
    assert warm.status_code == 401
    before = _memory_kib(server)
    size = 100 * MIB
    with socket.create_connection(_address(server), timeout=10) as sock:
        sock.sendall(_login_head(f"Content-Length: {size}\r\n"))
        # The answer comes before any of the body; a server that waits for it gets it all.
        answered, _, _ = select.select([sock], [], [], 2.0)
        if not answered:
            chunk = b'{"user_id": "' + b"a" * (MIB - 13)
            for _ in range(size // MIB):
                sock.sendall(chunk)
        head = _read_response_head(sock, 60)
    after = _memory_kib(server)
    grown_mib = (after["VmHWM"] - before["VmHWM"]) / 1024
    print(f"worker memory: RSS {before['VmRSS'] // 1024} -> {after['VmRSS'] // 1024} MiB, "
          f"peak {before['VmHWM'] // 1024} -> {after['VmHWM'] // 1024} MiB")  # fmt: skip
    assert grown_mib < 8, f"peak memory grew by {grown_mib:.0f} MiB"
    assert head.startswith(b"HTTP/1.1 413"), head[:200]
    assert b"connection: close" in head.lower()


def test_a_chunked_body_is_cut_off_at_the_limit(server: support.ServerProcess) -> None:
    chunk = b"a" * 65536
    framed = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    sent = 0
    with socket.create_connection(_address(server), timeout=10) as sock:
        sock.sendall(_login_head("Transfer-Encoding: chunked\r\n"))
        head = b""
        for _ in range(10 * MIB // len(chunk)):  # bounded: ten times the limit
            sock.sendall(framed)
            sent += len(chunk)
            answered, _, _ = select.select([sock], [], [], 0.05)
            if answered:
                head = _read_response_head(sock, 10)
                break
        else:
            sock.sendall(b"0\r\n\r\n")
            head = _read_response_head(sock, 30)
    assert head.startswith(b"HTTP/1.1 413"), head[:200]
    assert sent <= 2 * MIB  # refused once past the limit, not after the whole body


def test_slow_heads_and_bodies_are_closed_within_their_deadlines(
    server: support.ServerProcess,
) -> None:
    address = _address(server)
    heads = [socket.create_connection(address, timeout=5) for _ in range(15)]
    idle = socket.create_connection(address, timeout=5)  # connects and says nothing
    bodies = [socket.create_connection(address, timeout=5) for _ in range(3)]
    huge_head = socket.create_connection(address, timeout=5)
    everyone = [*heads, idle, *bodies, huge_head]
    try:
        for sock in heads:
            sock.sendall(b"GET /health/liveness HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        for sock in bodies:
            sock.sendall(_login_head("Content-Length: 100\r\n") + b"{")
        # A head far over the cap, sent at once (no request line end in sight).
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            huge_head.sendall(b"GET / HTTP/1.1\r\nX-Big: " + b"a" * (256 * 1024))
        started = time.monotonic()
        closed_after: dict[int, float] = {}
        answers: dict[int, bytes] = {}
        # Trickle one byte per socket every half second, for at most 10 s past the deadlines.
        while len(closed_after) < len(everyone) and time.monotonic() - started < BODY_TIMEOUT + 10:
            for index, sock in enumerate(everyone):
                if index in closed_after:
                    continue
                readable, _, _ = select.select([sock], [], [], 0)
                if readable:
                    answers[index] = _read_response_head(sock, 2)
                    closed_after[index] = time.monotonic() - started
                    continue
                try:
                    if sock is not idle and sock is not huge_head:
                        sock.sendall(b"a")
                except (BrokenPipeError, ConnectionResetError):
                    closed_after[index] = time.monotonic() - started
            time.sleep(0.5)
        open_still = [i for i in range(len(everyone)) if i not in closed_after]
        assert open_still == [], f"still open after {time.monotonic() - started:.0f}s: {open_still}"
        slowest = max(closed_after.values())
        assert slowest < BODY_TIMEOUT + 3, closed_after
        for index in range(16):  # slow heads and the idle one: closed without an answer
            assert closed_after[index] < HEADER_TIMEOUT + 3
            assert answers.get(index, b"") == b""
        for index in range(16, 19):  # slow bodies: 408
            assert answers[index].startswith(b"HTTP/1.1 408"), answers[index][:200]
    finally:
        for sock in everyone:
            sock.close()
    # The server still answers everyone else.
    assert httpx.get(f"{server.base_url}/health/liveness", timeout=10).status_code == 200
