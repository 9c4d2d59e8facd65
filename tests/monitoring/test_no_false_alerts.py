"""A normal short load run raises no alert (the plan's false-alert target)."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

import httpx

from mrs.app import create_app
from mrs.clock import FixedClock
from mrs.monitoring.service import alert_history
from mrs.settings import Settings
from tests.conftest import DEFAULT_PASSWORD
from tests.monitoring.conftest import WebhookReceiver
from tests.monitoring.evaluator import alert_evaluator


async def test_a_normal_load_run_raises_no_alert(
    settings: Settings, clock: FixedClock, webhook: WebhookReceiver, tomorrow: date
) -> None:
    # Default thresholds; only the webhook is ours, so any notice would show up there.
    app = create_app(settings.model_copy(update={"alert_webhook_url": webhook.url}), clock=clock)
    from mrs.accounts import users
    from mrs.accounts.models import Role
    from mrs.rooms import service as rooms_service

    db = app.state.db
    for n in range(10):
        await users.create_user(
            db,
            user_id=f"load{n}",
            password=DEFAULT_PASSWORD,
            email=f"load{n}@example.com",
            first_name="Load",
            last_name=str(n),
            role=Role.USER,
            now=clock(),
        )
    rooms = []
    for n in range(5):
        room = await rooms_service.create_room(db, room_name=f"Load {n}", capacity=4, location="2F")
        await rooms_service.open_room(
            db, room_id=room.room_id, from_date=tomorrow, to_date=tomorrow, weekdays=None
        )
        rooms.append(room.room_id)

    evaluator = alert_evaluator(app)
    await evaluator.evaluate()
    statuses: list[int] = []
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        tokens = []
        for n in range(10):
            response = await client.post(
                "/api/auth/login", json={"user_id": f"load{n}", "password": DEFAULT_PASSWORD}
            )
            tokens.append({"Authorization": f"Bearer {response.json()['access_token']}"})
        client.cookies.clear()
        gate = asyncio.Semaphore(20)

        async def user_session(n: int) -> None:
            headers = tokens[n % len(tokens)]
            room = rooms[n % len(rooms)]
            start = (n % 16) * 30 + 8 * 60
            calls: list[tuple[str, str, dict[str, Any] | None]] = [
                ("GET", f"/api/rooms?date={tomorrow}", None),
                ("GET", f"/api/rooms/{room}/reservations?date={tomorrow}", None),
                (
                    "POST",
                    f"/api/rooms/{room}/reservations",
                    {
                        "date": tomorrow.isoformat(),
                        "start_time": f"{start // 60:02d}:{start % 60:02d}",
                        "end_time": f"{(start + 30) // 60:02d}:{(start + 30) % 60:02d}",
                    },
                ),
                ("GET", "/api/reservations/mine", None),
                ("GET", "/health", None),
            ]
            for method, path, body in calls:
                async with gate:
                    response = await client.request(method, path, json=body, headers=headers)
                statuses.append(response.status_code)

        await asyncio.gather(*(user_session(n) for n in range(60)))
    clock.now += timedelta(seconds=60)
    await evaluator.evaluate()

    assert len(statuses) == 300
    assert not [s for s in statuses if s >= 500]
    assert webhook.received == []
    assert await alert_history(db) == []
