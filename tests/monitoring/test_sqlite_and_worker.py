"""Monitoring on the embedded SQLite database, and the background-worker health check."""

from __future__ import annotations

from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from mrs.app import create_app
from mrs.settings import Settings
from tests.monitoring.conftest import WebhookReceiver
from tests.monitoring.evaluator import alert_evaluator

TOKEN = "management-token-for-tests-0123456789"


async def test_alerts_and_health_work_on_sqlite(
    tmp_path: Path, sqlite_url: str, webhook: WebhookReceiver
) -> None:
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=sqlite_url,
        secret_key="s" * 48,
        management_token=TOKEN,
        alert_webhook_url=webhook.url,
        alert_disk_free_percent=100.0,
    )
    app = create_app(settings)
    try:
        await alert_evaluator(app).run()  # the leader lock is a file lock here
        assert len(webhook.of("disk_space", "FIRING")) == 1
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as client:
            body = (
                await client.get("/health", headers={"Authorization": f"Bearer {TOKEN}"})
            ).json()
            alerts = (
                await client.get("/api/admin/alerts", headers={"Authorization": f"Bearer {TOKEN}"})
            ).json()
            exposition = (
                await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
            ).text
            # Test-only routes do not exist unless the settings enable them.
            assert (await client.get("/api/test/slow")).status_code == 404
        assert body["components"]["db"]["status"] == "UP"
        assert body["components"]["db"]["details"]["database"] == "sqlite"
        assert body["components"]["diskSpace"]["status"] == "DOWN"
        assert alerts["firing"] == ["disk_space"]
        firing = {
            sample.labels["rule"]: sample.value
            for family in text_string_to_metric_families(exposition)
            for sample in family.samples
            if sample.name == "mrs_alerts_firing"
        }
        assert firing["disk_space"] == 1
        assert firing["db_connection"] == 0
    finally:
        await app.state.db.dispose()


async def test_the_health_check_sees_the_background_jobs(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"management_token": TOKEN}))
    runner = app.state.background
    await runner.start()
    try:
        for name in ("alerts", "metrics-gauges", "metrics-flush"):
            await runner.run_once(name)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as client:
            body = (
                await client.get("/health", headers={"Authorization": f"Bearer {TOKEN}"})
            ).json()
    finally:
        await runner.stop()
        await app.state.db.dispose()
    part = body["components"]["reservations"]
    assert part["status"] == "UP"
    worker = part["details"]["backgroundWorker"]
    assert worker["running"] is True
    assert {"alerts", "metrics-gauges", "metrics-flush"} <= set(worker["jobs"])
    assert all(job["late"] is False for job in worker["jobs"].values())
