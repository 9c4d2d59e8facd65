"""Prometheus metrics of the service.

With several worker processes (`mrs serve --workers N`) every process writes its values
to files in PROMETHEUS_MULTIPROC_DIR (set by `mrs serve` before the workers start), and
`/metrics` aggregates all of them, so a scrape counts every worker whichever one answers.
prometheus-client picks its storage when it is first imported, which is why the CLI sets
the variable before anything imports this module.

Other domains define their own counters in their packages (e.g. mrs.accounts.metrics);
everything created with prometheus-client's default registry is exported.
"""

from __future__ import annotations

import os
import resource
import time
from bisect import bisect_left
from dataclasses import dataclass, field
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from sqlalchemy.pool import QueuePool

from mrs.db.engine import Database
from mrs.monitoring.multiproc import multiprocess_dir, tidy_multiprocess_dir
from mrs.reservations import events as reservation_events
from mrs.reservations.events import ReservationEvent

# Buckets cover fast API calls up to the 5 s "slow" threshold and beyond.
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

HTTP_REQUESTS = Counter(
    "mrs_http_requests_total",
    "HTTP requests answered, by route template, method and status class.",
    ["route", "method", "status"],
)
HTTP_DURATION = Histogram(
    "mrs_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template and method.",
    ["route", "method"],
    buckets=DURATION_BUCKETS,
)
HTTP_IN_FLIGHT = Gauge(
    "mrs_http_requests_in_flight",
    "HTTP requests being answered now.",
    multiprocess_mode="livesum",
)
HTTP_ERRORS = Counter(
    "mrs_http_errors_total",
    "HTTP requests answered with a server error (5xx; health probes excluded).",
    ["route", "method"],
)
HTTP_SLOW = Counter(
    "mrs_http_slow_requests_total",
    "HTTP requests slower than the alert threshold (MRS_ALERT_RESPONSE_SECONDS).",
    ["route", "method"],
)

RESERVATIONS_CREATED = Counter("mrs_reservations_created_total", "Reservations made.")
RESERVATIONS_CANCELLED = Counter("mrs_reservations_cancelled_total", "Reservations cancelled.")
RESERVATION_CONFLICTS = Counter(
    "mrs_reservation_conflicts_total", "Reservation attempts refused because the slot was taken."
)
_RESERVATION_COUNTERS = {
    ReservationEvent.CREATED: RESERVATIONS_CREATED,
    ReservationEvent.CANCELLED: RESERVATIONS_CANCELLED,
    ReservationEvent.CONFLICT: RESERVATION_CONFLICTS,
}


def count_reservation_event(event: ReservationEvent) -> None:
    """Count what the reservation use cases report, whichever door they were called by."""
    _RESERVATION_COUNTERS[event].inc()


def count_reservations() -> None:
    """Subscribe the reservation counters to the reservation events (at install)."""
    reservation_events.subscribe(count_reservation_event)


DB_POOL_SIZE = Gauge(
    "mrs_db_pool_size", "Configured connection pool size.", multiprocess_mode="livesum"
)
DB_POOL_CHECKED_OUT = Gauge(
    "mrs_db_pool_checked_out_connections",
    "Database connections in use.",
    multiprocess_mode="livesum",
)
DB_POOL_IDLE = Gauge(
    "mrs_db_pool_idle_connections",
    "Database connections open and idle in the pool.",
    multiprocess_mode="livesum",
)
DB_POOL_OVERFLOW = Gauge(
    "mrs_db_pool_overflow_connections",
    "Connections open beyond the pool size.",
    multiprocess_mode="livesum",
)
DB_POOL_WAIT = Histogram(
    "mrs_db_pool_wait_seconds",
    "Time spent waiting for a database connection from the pool.",
    buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0),
)

PROCESS_RSS = Gauge(
    "mrs_process_resident_memory_bytes",
    "Resident memory of the server processes.",
    multiprocess_mode="livesum",
)
PROCESS_CPU = Gauge(
    "mrs_process_cpu_seconds",
    "CPU time used by each live server process since it started.",
    multiprocess_mode="livesum",
)
PROCESS_OPEN_FDS = Gauge(
    "mrs_process_open_fds",
    "Open file descriptors of the server processes.",
    multiprocess_mode="livesum",
)
PROCESSES = Gauge("mrs_processes", "Live server processes.", multiprocess_mode="livesum")

ALERTS_FIRING = Gauge(
    "mrs_alerts_firing",
    "1 while an alert rule is firing, else 0.",
    ["rule"],
    multiprocess_mode="mostrecent",
)


# A 503 from /health or /health/readiness reports a problem; it is not one more error
# (counting it would make every DOWN component also fire the error-rate alert).
PROBE_ROUTE_PREFIX = "/health"


@dataclass
class _Pending:
    count: int = 0
    seconds: float = 0.0
    slow: int = 0
    buckets: list[int] = field(default_factory=lambda: [0] * (len(DURATION_BUCKETS) + 1))


class RequestRecorder:
    """Collects this process's HTTP figures in plain Python and flushes them into the
    Prometheus values in batches.

    Why: in multiprocess mode every `inc()`/`observe()` takes a lock and writes a shared
    file (about 5 writes per request); batching makes the hot path a few dict updates
    and the writes proportional to the number of distinct routes, not of requests.
    Flushed every second by a background job, and always before anyone reads the values
    (/metrics, the alert evaluator, the dashboard), so those readings are exact for this
    process and at most one flush interval behind for the others.
    """

    def __init__(self) -> None:
        self._pending: dict[tuple[str, str, int], _Pending] = {}
        self.in_flight = 0

    def record(self, route: str, method: str, status: int, seconds: float, slow: bool) -> None:
        key = (route, method, status // 100)
        pending = self._pending.get(key)
        if pending is None:
            pending = self._pending[key] = _Pending()
        pending.count += 1
        pending.seconds += seconds
        pending.buckets[bisect_left(DURATION_BUCKETS, seconds)] += 1
        if slow:
            pending.slow += 1

    def flush(self) -> None:
        pending, self._pending = self._pending, {}
        for (route, method, status_class), figures in pending.items():
            HTTP_REQUESTS.labels(route, method, f"{status_class}xx").inc(figures.count)
            histogram = HTTP_DURATION.labels(route, method)
            # The histogram's own storage: one write per bucket touched, not per request.
            histogram._sum.inc(figures.seconds)
            for index, count in enumerate(figures.buckets):
                if count:
                    histogram._buckets[index].inc(count)
            if status_class == 5 and not route.startswith(PROBE_ROUTE_PREFIX):
                HTTP_ERRORS.labels(route, method).inc(figures.count)
            if figures.slow:
                HTTP_SLOW.labels(route, method).inc(figures.slow)
        HTTP_IN_FLIGHT.set(self.in_flight)


RECORDER = RequestRecorder()


def collection_registry() -> CollectorRegistry:
    """The registry to expose: every process's values in multiprocess mode, else ours."""
    path = multiprocess_dir()
    if path is None:
        return REGISTRY
    tidy_multiprocess_dir(path)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return registry


def render_latest() -> tuple[bytes, str]:
    """The exposition text and its content type (call from the event loop's thread)."""
    RECORDER.flush()
    return generate_latest(collection_registry()), CONTENT_TYPE_LATEST


@dataclass(frozen=True)
class ProcessUsage:
    rss_bytes: int
    cpu_seconds: float
    open_fds: int


def current_process_usage() -> ProcessUsage:
    """This process's memory, CPU time and open files (Linux /proc, with fallbacks)."""
    rss = 0
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        rss = pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    times = os.times()
    try:
        fds = len(os.listdir("/proc/self/fd"))
    except OSError:
        fds = 0
    return ProcessUsage(rss, times.user + times.system, fds)


@dataclass(frozen=True)
class PoolUsage:
    size: int
    checked_out: int
    idle: int
    overflow: int


def pool_usage(db: Database) -> PoolUsage | None:
    """The request pool's state; None for SQLite, which opens a connection per use."""
    pool = db.engine.sync_engine.pool
    if not isinstance(pool, QueuePool):
        return None
    return PoolUsage(
        size=pool.size(),
        checked_out=pool.checkedout(),
        idle=pool.checkedin(),
        overflow=max(pool.overflow(), 0),
    )


def update_process_gauges(db: Database) -> None:
    """Refresh this process's pool and process gauges (each process writes its own)."""
    usage = current_process_usage()
    PROCESS_RSS.set(usage.rss_bytes)
    PROCESS_CPU.set(usage.cpu_seconds)
    PROCESS_OPEN_FDS.set(usage.open_fds)
    PROCESSES.set(1)
    pool = pool_usage(db)
    if pool is not None:
        DB_POOL_SIZE.set(pool.size)
        DB_POOL_CHECKED_OUT.set(pool.checked_out)
        DB_POOL_IDLE.set(pool.idle)
        DB_POOL_OVERFLOW.set(pool.overflow)


def instrument_pool_wait(db: Database) -> None:
    """Time how long each checkout waits for a connection.

    SQLAlchemy has no "before checkout" event, so the pool's `connect` is wrapped; the
    wrapper only adds two clock reads around the existing call.
    """
    pool = db.engine.sync_engine.pool
    if not isinstance(pool, QueuePool) or getattr(pool, "_mrs_timed", False):
        return
    original = pool.connect

    def timed_connect() -> object:
        started = time.perf_counter()
        try:
            return original()
        finally:
            DB_POOL_WAIT.observe(time.perf_counter() - started)

    pool.connect = timed_connect  # type: ignore[method-assign,assignment]
    pool._mrs_timed = True  # type: ignore[attr-defined]


@dataclass(frozen=True)
class RequestTotals:
    """Cumulative request figures across all processes, for windows and charts."""

    requests: float
    errors: float
    slow: float
    duration_sum: float
    # Cumulative count per histogram upper bound ("+Inf" last), summed over routes.
    buckets: dict[str, float]


def request_totals() -> RequestTotals:
    """Read the HTTP figures from every process (the same numbers /metrics shows)."""
    RECORDER.flush()
    requests = errors = slow = duration_sum = 0.0
    buckets: dict[str, float] = {}
    for family in collection_registry().collect():
        for sample in family.samples:
            if sample.name == "mrs_http_requests_total":
                requests += sample.value
            elif sample.name == "mrs_http_errors_total":
                errors += sample.value
            elif sample.name == "mrs_http_slow_requests_total":
                slow += sample.value
            elif sample.name == "mrs_http_request_duration_seconds_sum":
                duration_sum += sample.value
            elif sample.name == "mrs_http_request_duration_seconds_bucket":
                bound = sample.labels["le"]
                buckets[bound] = buckets.get(bound, 0.0) + sample.value
    return RequestTotals(requests, errors, slow, duration_sum, buckets)
