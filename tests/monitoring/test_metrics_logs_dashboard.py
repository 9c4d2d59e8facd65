"""/metrics (Prometheus text, admin or token), request logs with a request id and no
secrets, and the admin dashboard."""

from __future__ import annotations

import logging
import re
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from mrs.clock import FixedClock
from mrs.monitoring.logs import JsonFormatter
from tests.conftest import DEFAULT_PASSWORD, browser_like_client
from tests.monitoring.evaluator import alert_evaluator

TOKEN = "management-token-for-tests-0123456789"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(found: dict[Any, float], name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_metrics_need_an_admin_or_the_token(
    client: httpx.AsyncClient, user_headers: dict[str, str], admin_headers: dict[str, str]
) -> None:
    assert (await client.get("/metrics")).status_code == 401
    assert (await client.get("/metrics", headers=user_headers)).status_code == 403
    response = await client.get("/metrics", headers=admin_headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    # A token whose session ended is refused, like everywhere else.
    assert (await client.post("/api/auth/logout", headers=admin_headers)).status_code < 300
    assert (await client.get("/metrics", headers=admin_headers)).status_code == 401


async def test_metrics_count_requests_and_reservations(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    user_headers: dict[str, str],
    make_room: Any,
    tomorrow: date,
) -> None:
    before = samples((await client.get("/metrics", headers=admin_headers)).text)
    room = await make_room()
    path = f"/api/rooms/{room}/reservations"
    body = {"date": tomorrow.isoformat(), "start_time": "10:00", "end_time": "11:00"}
    made = await client.post(path, json=body, headers=user_headers)
    assert made.status_code == 201
    assert (await client.post(path, json=body, headers=user_headers)).status_code == 409
    cancelled = await client.delete(
        f"/api/reservations/{made.json()['reservation_id']}", headers=user_headers
    )
    assert cancelled.status_code == 204
    after = samples((await client.get("/metrics", headers=admin_headers)).text)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    route = "/api/rooms/{room_id}/reservations"
    assert grew("mrs_http_requests_total", route=route, method="POST", status="2xx") == 1
    assert grew("mrs_http_requests_total", route=route, method="POST", status="4xx") == 1
    assert grew("mrs_http_request_duration_seconds_count", route=route, method="POST") == 2
    assert grew("mrs_reservations_created_total") == 1
    assert grew("mrs_reservation_conflicts_total") == 1
    assert grew("mrs_reservations_cancelled_total") == 1
    assert grew("mrs_db_pool_wait_seconds_count") >= 3  # each request checked out a connection
    names = {name for name, _ in after}
    assert {
        "mrs_http_requests_in_flight",
        "mrs_process_resident_memory_bytes",
        "mrs_process_open_fds",
        "mrs_db_pool_size",
        "mrs_db_pool_checked_out_connections",
        "mrs_db_pool_wait_seconds_count",
    } <= names
    # Raw paths (with ids) never become labels.
    assert not any(re.search(r"/api/rooms/\d", str(labels)) for _, labels in after)


async def test_bookings_through_the_pages_and_the_api_are_counted_alike(
    app: Any,
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    user_headers: dict[str, str],
    make_user: Any,
    make_room: Any,
    tomorrow: date,
) -> None:
    before = samples((await client.get("/metrics", headers=admin_headers)).text)
    room = await make_room()
    body = {"date": tomorrow.isoformat(), "start_time": "10:00", "end_time": "11:00"}
    api = await client.post(f"/api/rooms/{room}/reservations", json=body, headers=user_headers)
    assert api.status_code == 201
    async with browser_like_client(app) as browser:
        user_id = await make_user()
        logged_in = await browser.post(
            "/login", data={"user_id": user_id, "password": DEFAULT_PASSWORD}
        )
        assert logged_in.status_code == 303
        form = {"date": tomorrow.isoformat(), "start_time": "11:00", "end_time": "12:00"}
        booked = await browser.post(f"/rooms/{room}/reservations", data=form)
        assert booked.status_code == 303, booked.text
        taken = await browser.post(f"/rooms/{room}/reservations", data=form)
        assert taken.status_code == 409
        mine = re.search(
            r'href="/reservations/(\d+)/cancel"', (await browser.get("/reservations")).text
        )
        assert mine is not None
        cancelled = await browser.post(f"/reservations/{mine.group(1)}/cancel")
        assert cancelled.status_code == 303
    after = samples((await client.get("/metrics", headers=admin_headers)).text)

    def grew(name: str) -> float:
        return value(after, name) - value(before, name)

    assert grew("mrs_reservations_created_total") == 2
    assert grew("mrs_reservation_conflicts_total") == 1
    assert grew("mrs_reservations_cancelled_total") == 1


async def test_request_logs_have_a_request_id_and_no_secrets(
    client: httpx.AsyncClient, user_headers: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="mrs.access")
    response = await client.get(
        "/api/reservations/mine?token=secret-in-query",
        headers=user_headers | {"X-Request-ID": "abc-123", "Cookie": "mrs_session=cookie-secret"},
    )
    assert response.headers["x-request-id"] == "abc-123"
    generated = await client.get("/health/liveness", headers={"X-Request-ID": "bad id\n"})
    assert re.fullmatch(r"[0-9a-f]{16}-[0-9a-f]+", generated.headers["x-request-id"])

    records = [r for r in caplog.records if r.name == "mrs.access"]
    lines = [JsonFormatter().format(record) for record in records]
    mine = next(line for line in lines if "abc-123" in line)
    assert '"route":"/api/reservations/mine"' in mine
    assert '"status":200' in mine
    token = user_headers["Authorization"].split()[1]
    for line in lines:
        assert token not in line
        assert "cookie-secret" not in line
        assert "secret-in-query" not in line


async def test_the_dashboard_is_for_admins_and_csp_safe(
    app: Any,
    clock: FixedClock,
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    user_headers: dict[str, str],
) -> None:
    # Two evaluations with traffic between them give the charts a first segment.
    await alert_evaluator(app).evaluate()
    for _ in range(5):
        await client.get("/health/liveness")
    clock.now += timedelta(seconds=60)
    await alert_evaluator(app).evaluate()
    # The site's page guard: anonymous visitors go to the login page and come back ...
    anonymous = await client.get("/admin/monitoring")
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/login?next=%2Fadmin%2Fmonitoring"
    # ... and users get the site's 403 page, in their language.
    refused = await client.get(
        "/admin/monitoring", headers={**user_headers, "accept-language": "ja"}
    )
    assert refused.status_code == 403
    assert "このページは管理者専用です。" in refused.text
    assert 'class="site-header"' in refused.text
    page = await client.get("/admin/monitoring", headers=admin_headers)
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    html = page.text
    for part in ("db", "diskSpace", "memory", "backup", "reservations", "p95", "Alerts"):
        assert part in html
    assert '<html lang="en">' in html
    assert 'class="site-header"' in html  # the site's header and navigation
    assert 'href="/admin/users"' in html
    assert "Requests per second" in html
    assert "<polyline" in html
    assert 'http-equiv="refresh"' in html
    assert 'name="viewport"' in html
    # Times in the site's zone (Asia/Tokyo), as every page shows them, not UTC.
    assert "Asia/Tokyo" in html
    assert " UTC" not in html
    # Strict CSP: scripts only from files, no inline style, no style attributes.
    assert re.findall(r"<script(?![^>]*\bsrc=)", html) == []
    assert "<style" not in html
    assert " style=" not in html
    japanese = await client.get(
        "/admin/monitoring", headers={**admin_headers, "accept-language": "ja"}
    )
    assert japanese.status_code == 200
    assert '<html lang="ja">' in japanese.text
    for text in ("ヘルス", "本日の予約", "アラート", "1秒あたりのリクエスト数"):
        assert text in japanese.text
    css = await client.get("/static/monitoring/monitoring.css")
    assert css.status_code == 200
    assert "@media" in css.text
