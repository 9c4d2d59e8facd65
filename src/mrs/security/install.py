"""Wire the security pieces into the app: CSRF, security headers, self-hosted API docs."""

from __future__ import annotations

from fastapi import FastAPI

from mrs.accounts.dependencies import SECURE_SESSION_COOKIE, SESSION_COOKIE
from mrs.http.limits import RequestLimitsMiddleware
from mrs.security.api import router as security_router
from mrs.security.csrf import CsrfMiddleware
from mrs.security.docs import install_local_docs
from mrs.security.headers import ErrorHandler, SecurityHeadersMiddleware
from mrs.security.hosts import TrustedHostMiddleware
from mrs.settings import Settings


def install_security(app: FastAPI, settings: Settings) -> None:
    """Add the middleware (headers outermost, so refusals carry them too) and the docs page."""

    def catch_all_handler() -> ErrorHandler | None:
        handler = app.exception_handlers.get(Exception)
        return handler  # type: ignore[return-value]

    app.include_router(security_router)
    install_local_docs(app)
    # Outermost last: headers > trusted host > body limits > CSRF (which reads form bodies).
    app.add_middleware(CsrfMiddleware, settings=settings)
    app.add_middleware(
        RequestLimitsMiddleware,
        max_body_bytes=settings.max_body_bytes,
        body_timeout_seconds=settings.body_timeout_seconds,
    )
    app.add_middleware(TrustedHostMiddleware, settings=settings)
    app.add_middleware(
        SecurityHeadersMiddleware,
        hsts_max_age=settings.hsts_max_age,
        session_cookie_names=(SESSION_COOKIE, SECURE_SESSION_COOKIE),
        error_handler=catch_all_handler,
    )
