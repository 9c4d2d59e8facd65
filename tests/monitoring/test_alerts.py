"""Every alert rule induced for real (lowered thresholds, a slow route, failing requests, a
failing-backup hook, a database taken away), delivered to a local webhook receiver;
cooldown, de-duplication and resolution; one evaluator across processes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from mrs.app import create_app
from mrs.clock import FixedClock
from mrs.db.engine import Database
from mrs.db.leader import exclusive
from mrs.monitoring import rules
from mrs.monitoring.service import AlertEvaluator, alert_history
from mrs.settings import Settings
from tests.faults import FaultProxy
from tests.mail import SmtpReceiver
from tests.monitoring.conftest import WebhookReceiver
from tests.monitoring.evaluator import alert_evaluator

AppFactory = Callable[..., FastAPI]


@pytest.fixture
async def make_app(
    settings: Settings, clock: FixedClock, webhook: WebhookReceiver
) -> AsyncIterator[AppFactory]:
    apps: list[FastAPI] = []

    def factory(**overrides: Any) -> FastAPI:
        values = {"alert_webhook_url": webhook.url, "enable_test_routes": True} | overrides
        app = create_app(settings.model_copy(update=values), clock=clock)
        apps.append(app)
        return app

    yield factory
    for app in apps:
        await app.state.db.dispose()


def client_for(app: FastAPI) -> httpx.AsyncClient:
    # The app answers 500 for failing routes; do not re-raise them in the test.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


def evaluator_of(app: FastAPI) -> AlertEvaluator:
    evaluator: AlertEvaluator = alert_evaluator(app)
    return evaluator


def later(clock: FixedClock, seconds: float) -> None:
    clock.now = clock.now + timedelta(seconds=seconds)


async def test_memory_over_threshold_fires_and_resolves(
    make_app: AppFactory, webhook: WebhookReceiver, clock: FixedClock
) -> None:
    app = make_app(alert_memory_percent=0.01)  # any real host uses more than 0.01 %
    evaluator = evaluator_of(app)
    await evaluator.evaluate()
    [notice] = webhook.of("memory", "FIRING")
    assert notice["severity"] == "warning"
    assert "Host memory use" in notice["message"]

    evaluator.settings = evaluator.settings.model_copy(update={"alert_memory_percent": 100.0})
    later(clock, 60)
    await evaluator.evaluate()
    assert len(webhook.of("memory", "RESOLVED")) == 1
    kinds = [e.kind for e in await alert_history(app.state.db, rule="memory")]
    assert kinds == ["RESOLVED", "FIRING"]


async def test_slow_requests_and_p95_fire_on_a_slow_route(
    make_app: AppFactory, webhook: WebhookReceiver, clock: FixedClock
) -> None:
    app = make_app(alert_response_seconds=0.2)
    evaluator = evaluator_of(app)
    await evaluator.evaluate()  # the first sample: the window starts here
    async with client_for(app) as client:
        for _ in range(3):
            response = await client.get("/api/test/slow", params={"seconds": 0.3})
            assert response.status_code == 200
    later(clock, 60)
    await evaluator.evaluate()
    [slow] = webhook.of("slow_requests", "FIRING")
    assert slow["value"] == 3
    [p95] = webhook.of("response_time_p95", "FIRING")
    assert p95["value"] > 0.2

    later(clock, 400)  # the slow requests are now outside the 5-minute window
    await evaluator.evaluate()
    assert len(webhook.of("slow_requests", "RESOLVED")) == 1
    assert len(webhook.of("response_time_p95", "RESOLVED")) == 1


async def test_error_rate_fires_when_requests_fail(
    make_app: AppFactory, webhook: WebhookReceiver, clock: FixedClock
) -> None:
    app = make_app(alert_error_rate=0.2, alert_error_min_requests=10)
    evaluator = evaluator_of(app)
    await evaluator.evaluate()
    async with client_for(app) as client:
        for _ in range(6):
            assert (await client.get("/api/test/fail")).status_code == 500
        for _ in range(6):
            assert (await client.get("/health/liveness")).status_code == 200
    later(clock, 30)
    await evaluator.evaluate()
    [notice] = webhook.of("error_rate", "FIRING")
    assert notice["severity"] == "critical"
    assert notice["value"] == pytest.approx(0.5)


async def test_low_disk_space_fires(make_app: AppFactory, webhook: WebhookReceiver) -> None:
    app = make_app(alert_disk_free_percent=100.0)  # no real disk is 100 % free
    await evaluator_of(app).evaluate()
    [notice] = webhook.of("disk_space", "FIRING")
    assert "Free disk space" in notice["message"]


async def test_a_failed_then_stale_backup_fires(
    make_app: AppFactory, webhook: WebhookReceiver, clock: FixedClock
) -> None:
    app = make_app()
    evaluator = evaluator_of(app)
    status: dict[str, rules.BackupObservation] = {}

    async def backup_hook(_db: Database) -> rules.BackupObservation:
        return status["now"]

    evaluator.backup_source = backup_hook
    now = clock()
    status["now"] = rules.BackupObservation(now - timedelta(hours=25), now, "pg_dump: disk full")
    await evaluator.evaluate()
    [failed] = webhook.of("backup", "FIRING")
    assert "pg_dump: disk full" in failed["message"]

    later(clock, 60)
    status["now"] = rules.BackupObservation(clock(), now, None)  # the next run succeeded
    await evaluator.evaluate()
    assert len(webhook.of("backup", "RESOLVED")) == 1

    later(clock, 27 * 3600)  # and then no backup for 27 hours
    await evaluator.evaluate()
    fired = webhook.of("backup", "FIRING")
    assert len(fired) == 2
    assert "27.0 h old" in fired[1]["message"]


async def test_the_database_going_away_fires_and_coming_back_resolves(
    make_app: AppFactory, webhook: WebhookReceiver, pg_proxy: tuple[FaultProxy, str]
) -> None:
    proxy, proxied_url = pg_proxy
    app = make_app(database_url=proxied_url)
    evaluator = evaluator_of(app)
    await evaluator.run()
    assert webhook.of("db_connection") == []

    proxy.drop()
    await evaluator.run()
    await evaluator.run()  # still down: no repeat within the cooldown
    [notice] = webhook.of("db_connection", "FIRING")
    assert notice["severity"] == "critical"
    assert "cannot be reached" in notice["message"]

    proxy.pass_through()
    await evaluator.run()
    assert len(webhook.of("db_connection", "RESOLVED")) == 1
    # The outage was recorded once the database was back.
    kinds = [e.kind for e in await alert_history(app.state.db, rule="db_connection")]
    assert kinds == ["RESOLVED", "FIRING"]


async def test_cooldown_deduplicates_a_flapping_rule(
    make_app: AppFactory, webhook: WebhookReceiver, clock: FixedClock, admin_headers: Any
) -> None:
    app = make_app(alert_disk_free_percent=100.0, alert_cooldown_seconds=3600)
    evaluator = evaluator_of(app)
    await evaluator.evaluate()
    later(clock, 60)
    await evaluator.evaluate()  # still firing, inside the cooldown: nothing sent
    assert len(webhook.of("disk_space")) == 1

    evaluator.settings = evaluator.settings.model_copy(update={"alert_disk_free_percent": 0.0})
    later(clock, 60)
    await evaluator.evaluate()
    assert len(webhook.of("disk_space", "RESOLVED")) == 1

    evaluator.settings = evaluator.settings.model_copy(update={"alert_disk_free_percent": 100.0})
    later(clock, 60)
    await evaluator.evaluate()  # fires again 3 minutes after the first notice: de-duplicated
    assert len(webhook.of("disk_space", "FIRING")) == 1

    later(clock, 3600)
    await evaluator.evaluate()  # still firing after the cooldown: announced now
    assert len(webhook.of("disk_space", "FIRING")) == 2

    history = [e for e in await alert_history(app.state.db, rule="disk_space")]
    assert [(e.kind, bool(e.channels)) for e in history] == [
        ("FIRING", True),
        ("FIRING", False),
        ("RESOLVED", True),
        ("FIRING", True),
    ]


async def test_webhook_delivery_is_retried(make_app: AppFactory, webhook: WebhookReceiver) -> None:
    webhook.fail_first = 2
    app = make_app(alert_disk_free_percent=100.0, alert_webhook_retries=3)
    await evaluator_of(app).evaluate()
    assert len(webhook.of("disk_space", "FIRING")) == 1
    assert webhook.attempts >= 3


async def test_only_the_leader_evaluates(make_app: AppFactory, webhook: WebhookReceiver) -> None:
    app = make_app(alert_disk_free_percent=100.0)
    async with exclusive(app.state.db, "alerts") as held:
        assert held
        await evaluator_of(app).run()  # another process leads: this one skips
    assert webhook.of("disk_space") == []
    await evaluator_of(app).run()
    assert len(webhook.of("disk_space", "FIRING")) == 1


async def test_alert_history_api_is_for_admins(
    make_app: AppFactory, make_user: Any, login: Any, user_headers: dict[str, str]
) -> None:
    app = make_app(alert_disk_free_percent=100.0, management_token="m" * 40)
    await evaluator_of(app).evaluate()
    async with client_for(app) as client:
        assert (await client.get("/api/admin/alerts")).status_code == 401
        assert (await client.get("/api/admin/alerts", headers=user_headers)).status_code == 403
        response = await client.get(
            "/api/admin/alerts", headers={"Authorization": "Bearer " + "m" * 40}
        )
    assert response.status_code == 200
    body = response.json()
    assert "disk_space" in body["firing"]
    assert body["events"][0]["rule"] == "disk_space"
    assert body["events"][0]["channels"] == ["log", "webhook"]


async def test_alert_mail_goes_through_the_outbox_to_smtp(
    make_app: AppFactory, webhook: WebhookReceiver, smtp: SmtpReceiver, clock: FixedClock
) -> None:
    app = make_app(
        alert_disk_free_percent=100.0,
        alert_email_to="ops@example.com, oncall@example.com",
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
    )
    evaluator = evaluator_of(app)
    await evaluator.evaluate()
    await app.state.background.run_once("mail-outbox")
    assert smtp.subjects() == ["[MRS WARNING] FIRING: disk_space"] * 2
    assert {str(m["To"]) for m in smtp.messages} == {"ops@example.com", "oncall@example.com"}
    assert "Free disk space" in smtp.messages[0].get_content()
    [event] = await alert_history(app.state.db, rule="disk_space")
    assert event.channels == ["log", "webhook", "email"]

    evaluator.settings = evaluator.settings.model_copy(update={"alert_disk_free_percent": 0.0})
    later(clock, 60)
    await evaluator.evaluate()
    await app.state.background.run_once("mail-outbox")
    assert smtp.subjects()[2:] == ["[MRS WARNING] RESOLVED: disk_space"] * 2


async def test_health_probes_answering_503_are_not_errors(
    make_app: AppFactory, webhook: WebhookReceiver, clock: FixedClock
) -> None:
    # A DOWN component makes /health answer 503; that must not also fire the error rate.
    app = make_app(alert_disk_free_percent=100.0, alert_error_min_requests=5)
    evaluator = evaluator_of(app)
    await evaluator.evaluate()
    async with client_for(app) as client:
        for _ in range(10):
            assert (await client.get("/health")).status_code == 503
    later(clock, 30)
    await evaluator.evaluate()
    assert webhook.of("error_rate") == []
    assert len(webhook.of("disk_space", "FIRING")) == 1
