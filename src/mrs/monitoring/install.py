"""Wire monitoring into the app: middleware, routes, static files, periodic jobs."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from mrs.background import BackgroundRunner
from mrs.clock import Clock
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


def install_monitoring(
    app: FastAPI, *, settings: Settings, db: Database, background: BackgroundRunner, clock: Clock
) -> None:
    # Inside the monitoring middleware, so a request cut short is counted and logged as 503.
    app.add_middleware(RequestDeadlineMiddleware, seconds=settings.request_timeout_seconds)
    app.add_middleware(
        RequestMonitoringMiddleware,
        metrics_enabled=settings.http_metrics_enabled,
        slow_seconds=settings.alert_response_seconds,
        access_log=settings.access_log,
    )
    app.include_router(api.router)
    app.include_router(pages.router)
    if settings.enable_test_routes:
        app.include_router(api.test_router)
    app.mount(
        "/static/monitoring", StaticFiles(directory=pages.STATIC_DIR), name="monitoring-static"
    )
    metrics.instrument_pool_wait(db)
    metrics.count_reservations()
    evaluator = AlertEvaluator(db, settings, clock)
    app.state.alert_evaluator = evaluator
    # The evaluator takes the "alerts" leader lock itself: it must still run (and report)
    # when the database, and so the advisory lock, is unreachable.
    background.add("alerts", evaluator.run, interval_seconds=settings.alert_interval_seconds)

    async def refresh_gauges() -> None:
        metrics.update_process_gauges(db)

    background.add("metrics-gauges", refresh_gauges, interval_seconds=GAUGE_INTERVAL_SECONDS)

    async def flush_request_metrics() -> None:
        metrics.RECORDER.flush()

    background.add("metrics-flush", flush_request_metrics, interval_seconds=FLUSH_INTERVAL_SECONDS)
