"""The request deadline's own cost per request, in-process: a trivial ASGI app called
directly and through `RequestDeadlineMiddleware`, in alternating rounds (one run, so the
ratio carries over; the absolute figures do not).

    .venv/bin/python loadtest/bench_deadline.py [--requests 20000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import time

from starlette.types import Message, Receive, Scope, Send

from mrs.http.deadline import RequestDeadlineMiddleware


async def _ok(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


async def _measure(requests: int, rounds: int) -> None:
    guarded = RequestDeadlineMiddleware(_ok, seconds=10)
    scope: Scope = {"type": "http", "path": "/api/rooms", "method": "GET"}

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(_message: Message) -> None:
        return None

    for round_number in range(1, rounds + 1):
        figures = {}
        for name, app in (("plain", _ok), ("deadline", guarded)):
            started = time.perf_counter()
            for _ in range(requests):
                await app(scope, receive, send)
            figures[name] = (time.perf_counter() - started) / requests * 1e6
        print(
            f"round {round_number}: plain {figures['plain']:.1f} µs, with the deadline "
            f"{figures['deadline']:.1f} µs: +{figures['deadline'] - figures['plain']:.1f} µs "
            "per request"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    asyncio.run(_measure(options.requests, options.rounds))


if __name__ == "__main__":
    main()
