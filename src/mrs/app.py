"""The composition root: settings, database, the packages' routers and jobs, middleware.

Every domain package offers its HTTP routes as `router` (in its `api.py`, or `pages.py`
for HTML) and its periodic work as `jobs(context)`; this module is the one place that
lists the packages and loops over them, so a new package is wired by adding it here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import APIRouter, FastAPI

from mrs import __version__
from mrs.accounts import api as accounts_api
from mrs.accounts import audit_api
from mrs.accounts import groups_api as accounts_groups_api
from mrs.accounts import jobs as accounts_jobs
from mrs.accounts import password_reset_api as accounts_password_reset_api
from mrs.background import BackgroundRunner, JobContext, JobSource
from mrs.calendars import feeds as calendars_feeds
from mrs.calendars import feeds_api as calendars_feeds_api
from mrs.calendars import invitations as calendars_invitations
from mrs.calendars import preferences_api as calendars_preferences_api
from mrs.calendars import reminders as calendars_reminders
from mrs.clock import Clock, system_clock
from mrs.db.engine import Database
from mrs.http.error_handlers import install_error_handlers
from mrs.http.openapi import install_error_documentation
from mrs.monitoring import api as monitoring_api
from mrs.monitoring import install as monitoring_install
from mrs.monitoring import pages as monitoring_pages
from mrs.notifications import worker as notifications_worker
from mrs.ops import schedule as ops_schedule
from mrs.policies import api as policies_api
from mrs.reports import api as reports_api
from mrs.reservations import api as reservations_api
from mrs.reservations import approvals_api as reservations_approvals_api
from mrs.reservations import checkin_api as reservations_checkin_api
from mrs.reservations import delegation_api as reservations_delegation_api
from mrs.reservations import jobs as reservations_jobs
from mrs.reservations import quota_api as reservations_quota_api
from mrs.reservations import release as reservations_release
from mrs.reservations import series_api as reservations_series_api
from mrs.reservations import views_api as reservations_views_api
from mrs.rooms import api as rooms_api
from mrs.rooms import jobs as rooms_jobs
from mrs.security.install import install_security
from mrs.settings import Settings, load_settings, serve_settings
from mrs.web import mount_web
from mrs.web.errors import render_error_page

ROUTERS: tuple[APIRouter, ...] = (
    # Before the rooms' routes: /api/rooms/available is not /api/rooms/{room_id}.
    reservations_views_api.router,
    accounts_api.router,
    accounts_password_reset_api.router,
    accounts_groups_api.router,
    rooms_api.router,
    reservations_api.router,
    reservations_series_api.router,
    accounts_api.mail_outbox_router,
    calendars_preferences_api.router,
    calendars_feeds_api.router,
    monitoring_api.router,
    monitoring_pages.router,
    reports_api.router,
    audit_api.router,
    policies_api.router,
    reservations_quota_api.router,
    reservations_checkin_api.router,
    reservations_delegation_api.router,
    reservations_approvals_api.router,
)
JOBS: tuple[JobSource, ...] = (
    ops_schedule.jobs,
    notifications_worker.jobs,
    calendars_invitations.jobs,
    accounts_jobs.jobs,
    reservations_jobs.jobs,
    reservations_release.jobs,
    rooms_jobs.jobs,
    calendars_reminders.jobs,
    monitoring_install.jobs,
)


def create_app(settings: Settings | None = None, *, clock: Clock = system_clock) -> FastAPI:
    """Build the ASGI app. The schema must already be migrated (`mrs db upgrade`)."""
    settings = settings or load_settings()
    db = Database(settings)
    background = BackgroundRunner(db)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if settings.run_background_jobs:
            await background.start()
        try:
            yield
        finally:
            await background.stop()
            await db.dispose()

    app = FastAPI(
        title="MRS — Meeting Room System",
        version=__version__,
        # Off where the service is exposed (MRS_API_DOCS): `mrs openapi` still exports it.
        openapi_url="/api/openapi.json" if settings.api_docs_enabled else None,
        docs_url="/api/docs" if settings.api_docs_enabled else None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.db = db
    app.state.clock = clock
    # Sessions and login throttling follow real time, like the JWT's exp; tests replace
    # this to move it without moving the domain clock.
    app.state.auth_clock = system_clock
    app.state.background = background
    # Calendar feeds as built, by validator (this process's; a miss builds it again).
    app.state.feed_cache = calendars_feeds.FeedCache()
    install_error_handlers(app, page_renderer=render_error_page)
    install_error_documentation(app)
    context = JobContext(settings=settings, db=db, clock=clock, auth_clock=system_clock)
    for source in JOBS:
        for job in source(context):
            background.add_job(job)
    for router in ROUTERS:
        app.include_router(router)
    install_security(app, settings)
    # Monitoring mounts /static/monitoring, which must come before the site's /static.
    monitoring_install.install_monitoring(app, settings=settings, db=db)
    mount_web(app)
    return app


def spec_app() -> FastAPI:
    """The app whose OpenAPI document is published, independent of the environment.

    Settings are fixed (in-memory SQLite, test routes off, a placeholder secret) so the
    document only changes when the code does. No connection is opened: building the spec
    needs the routes, not the database.
    """
    return create_app(
        Settings(
            data_dir=Path("/nonexistent/mrs-openapi"),
            database_url="sqlite:///:memory:",
            secret_key="openapi-export-placeholder",  # noqa: S106 - never signs anything
            enable_test_routes=False,
        )
    )


def app_from_environment() -> FastAPI:
    """Factory for uvicorn workers: the environment plus `mrs serve`'s options."""
    from mrs.monitoring.logs import configure_logging

    settings = serve_settings()
    configure_logging(settings)
    return create_app(settings)
