"""Wire monitoring into the app: middleware, test hooks, static files; its periodic jobs."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from mrs.background import Job, JobContext
from mrs.db.engine import Database
from mrs.http.deadline import RequestDeadlineMiddleware
from mrs.monitoring import api, metrics, pages
from mrs.monitoring.middleware import RequestMonitoringMiddleware
from mrs.monitoring.service import AlertEvaluator
from mrs.settings import Settings

# Each process refreshes its own pool and process gauges this often.
GAUGE_INTERVAL_SECONDS = 10.0
# Each process writes its batched request figures to the shared metrics this often.
FLUSH_INTERVAL_SECONDS = 1.0


def install_monitoring(app: FastAPI, *, settings: Settings, db: Database) -> None:
    """Add the request middleware, the test hooks (when enabled) and the static files."""
    # Inside the monitoring middleware, so a request cut short is counted and logged as 503.
    app.add_middleware(RequestDeadlineMiddleware, seconds=settings.request_timeout_seconds)
    app.add_middleware(
        RequestMonitoringMiddleware,
        metrics_enabled=settings.http_metrics_enabled,
        slow_seconds=settings.alert_response_seconds,
        access_log=settings.access_log,
    )
    if settings.enable_test_routes:
        app.include_router(api.test_router)
    app.mount(
        "/static/monitoring", StaticFiles(directory=pages.STATIC_DIR), name="monitoring-static"
    )
    metrics.instrument_pool_wait(db)
    metrics.count_reservations()


def jobs(context: JobContext) -> list[Job]:
    """Alert evaluation and this process's metrics upkeep."""
    db = context.db
    # The evaluator takes the "alerts" leader lock itself: it must still run (and report)
    # when the database, and so the advisory lock, is unreachable.
    evaluator = AlertEvaluator(db, context.settings, context.clock)

    async def refresh_gauges() -> None:
        metrics.update_process_gauges(db)

    async def flush_request_metrics() -> None:
        metrics.RECORDER.flush()

    return [
        Job("alerts", evaluator, interval_seconds=context.settings.alert_interval_seconds),
        Job("metrics-gauges", refresh_gauges, interval_seconds=GAUGE_INTERVAL_SECONDS),
        Job("metrics-flush", flush_request_metrics, interval_seconds=FLUSH_INTERVAL_SECONDS),
    ]
