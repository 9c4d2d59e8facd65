"""A fault-injecting TCP proxy for tests: put it between the app and PostgreSQL (or any
TCP server) and make the network misbehave for real.

Modes, switched from the test at any time:
- pass_through(): forward both ways (held data of a black-holed spell flows on, as TCP
  delivers what it retransmitted once a partition heals);
- drop(): reset every open connection and every new one at once (server gone, port dead);
- black_hole(): accept connections and keep them open, but forward nothing either way
  (packets dropped on a partitioned network: no error, no answer, only silence).

The proxy runs its own event loop on a thread, so sync tests, async tests (whatever
their loop) and server subprocesses can all use it.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType

# Bounds every wait on the proxy's own thread: a broken proxy fails the test, never hangs it.
CONTROL_TIMEOUT_SECONDS = 10.0


class Mode(enum.Enum):
    PASS = "pass"
    DROP = "drop"
    BLACK_HOLE = "black_hole"


class FaultProxy:
    """Listens on 127.0.0.1:`port` and forwards to `target_host`:`target_port`."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self.mode = Mode.PASS
        self.connections_seen = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._flowing: asyncio.Event | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    # --- control (from the test's thread) ---

    def start(self) -> FaultProxy:
        self._thread.start()
        self._call(self._start())
        return self

    def close(self) -> None:
        if self._thread.is_alive():
            self._call(self._close())
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(CONTROL_TIMEOUT_SECONDS)
        if not self._loop.is_running():
            self._loop.close()

    def pass_through(self) -> None:
        self._call(self._set_mode(Mode.PASS))

    def drop(self) -> None:
        self._call(self._set_mode(Mode.DROP))

    def black_hole(self) -> None:
        self._call(self._set_mode(Mode.BLACK_HOLE))

    @property
    def open_connections(self) -> int:
        """Client connections currently open through the proxy."""
        return len(self._writers) // 2

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _call(self, coroutine: object) -> None:
        future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)  # type: ignore[arg-type]
        future.result(CONTROL_TIMEOUT_SECONDS)

    # --- the proxy itself (on its own loop) ---

    async def _start(self) -> None:
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def _close(self) -> None:
        self._abort_all()
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), CONTROL_TIMEOUT_SECONDS)

    async def _set_mode(self, mode: Mode) -> None:
        assert self._flowing is not None
        self.mode = mode
        if mode is Mode.PASS:
            self._flowing.set()
            return
        self._flowing.clear()
        if mode is Mode.DROP:
            self._abort_all()

    def _abort_all(self) -> None:
        for writer in list(self._writers):
            _reset(writer)
        self._writers.clear()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert self._flowing is not None
        self.connections_seen += 1
        if self.mode is Mode.DROP:
            _reset(writer)
            return
        self._writers.add(writer)
        try:
            # Black-holed: the client believes it is connected; nothing reaches the server.
            await self._flowing.wait()
            if self.mode is Mode.DROP or writer not in self._writers:
                _reset(writer)
                return
            try:
                up_reader, up_writer = await asyncio.open_connection(*self.target)
            except OSError:
                _reset(writer)
                return
            self._writers.add(up_writer)
            await asyncio.gather(
                self._pipe(reader, up_writer, writer), self._pipe(up_reader, writer, up_writer)
            )
        finally:
            self._writers.discard(writer)

    async def _pipe(
        self,
        source: asyncio.StreamReader,
        sink: asyncio.StreamWriter,
        source_writer: asyncio.StreamWriter,
    ) -> None:
        assert self._flowing is not None
        with contextlib.suppress(OSError, asyncio.CancelledError, RuntimeError):
            while data := await source.read(65536):
                # Held, not lost, while black-holed: delivered if the path comes back.
                await self._flowing.wait()
                if source_writer not in self._writers:
                    break  # dropped meanwhile
                sink.write(data)
                await sink.drain()
        self._writers.discard(sink)
        _reset(sink)


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP reset (SO_LINGER 0), as a dead peer or firewall would."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(Exception):
        writer.transport.abort()


@contextmanager
def fault_proxy(target_host: str, target_port: int) -> Iterator[FaultProxy]:
    """A running proxy for the block."""
    proxy = FaultProxy(target_host, target_port)
    with proxy:
        yield proxy
