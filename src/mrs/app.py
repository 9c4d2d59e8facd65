"""The application factory: wires settings, database, routers, middleware and errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from mrs import __version__
from mrs.accounts import jobs as accounts_jobs
from mrs.accounts.api import mail_outbox_router as notifications_router
from mrs.accounts.api import router as accounts_router
from mrs.background import BackgroundRunner
from mrs.clock import Clock, system_clock
from mrs.db.engine import Database
from mrs.http.error_handlers import install_error_handlers
from mrs.http.openapi import install_error_documentation
from mrs.monitoring.install import install_monitoring
from mrs.notifications import worker as mail_worker
from mrs.ops.schedule import make_backup_job
from mrs.reservations import jobs as reservations_jobs
from mrs.reservations.api import router as reservations_router
from mrs.rooms.api import router as rooms_router
from mrs.security.install import install_security
from mrs.settings import Settings, load_settings
from mrs.web import mount_web
from mrs.web.errors import render_error_page


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
    # accounts (issue 3): sessions and login throttling follow real time, like the JWT's
    # exp; tests replace this to move it without moving the domain clock.
    app.state.auth_clock = system_clock
    app.state.background = background
    install_error_handlers(app, page_renderer=render_error_page)
    install_error_documentation(app)
    # The first check waits a minute: start-up (and short-lived processes) stay light.
    background.add(
        "backup",
        make_backup_job(settings, db, clock),
        interval_seconds=60,
        leader_lock="backup",
        initial_delay_seconds=60,
    )
    for router in (accounts_router, rooms_router, reservations_router):
        app.include_router(router)
    app.include_router(notifications_router)  # accounts (issue 3)
    mail_worker.install(app)  # accounts (issue 3): the mail outbox job
    accounts_jobs.install(app)  # accounts (issue 3): pruning old login history
    reservations_jobs.install(app)  # pruning expired Idempotency-Keys
    install_security(app, settings)
    # Monitoring mounts /static/monitoring, which must come before the site's /static.
    install_monitoring(app, settings=settings, db=db, background=background, clock=clock)
    mount_web(app)
    return app


def app_from_environment() -> FastAPI:
    """Factory for uvicorn workers: settings come from the environment."""
    from mrs.monitoring.logs import configure_logging

    settings = load_settings()
    configure_logging(settings)
    return create_app(settings)
