"""The 100-user scenario, run by Locust in its own process (see run_load.py).

Each simulated employee logs in once, then browses the rooms of a date, opens a room's
day, reserves random slots (a share of them deliberately aimed at a few hot slots, so
several users race for the same time), cancels some of their reservations and lists
their own. 409 on a reservation is an expected answer (someone else was faster); any
other non-2xx answer counts as a failure.

Configuration comes from environment variables set by run_load.py:
MRS_LOAD_USERS (comma-separated ids), MRS_LOAD_PASSWORD, MRS_LOAD_DAYS (ISO dates),
MRS_LOAD_CONTESTED (share of reservations aimed at hot slots), MRS_LOAD_RESULT (JSON path),
MRS_LOAD_WAIT (min,max think time in seconds).
"""

from __future__ import annotations

import itertools
import json
import os
import random
from collections import defaultdict
from typing import Any

from locust import FastHttpUser, between, events, task

USERS = [u for u in os.environ.get("MRS_LOAD_USERS", "").split(",") if u]
PASSWORD = os.environ.get("MRS_LOAD_PASSWORD", "")
DAYS = [d for d in os.environ.get("MRS_LOAD_DAYS", "").split(",") if d]
CONTESTED = float(os.environ.get("MRS_LOAD_CONTESTED", "0.25"))
RESULT_PATH = os.environ.get("MRS_LOAD_RESULT", "")
WAIT_MIN, WAIT_MAX = (float(x) for x in os.environ.get("MRS_LOAD_WAIT", "0.2,1.0").split(","))
SLOT = 30
# Hot slots: overlapping ranges on the first day in two rooms; everyone wants 09:00–11:00.
HOT_RANGES = [(540, 600), (570, 630), (600, 660), (540, 660)]

_next_user = itertools.count()
# name -> status code -> count, and name -> response times (ms); 0 = no HTTP answer.
STATUSES: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
TIMES: dict[str, list[float]] = defaultdict(list)
EXPECTED = {
    "login": {200},
    "rooms of a date": {200},
    "room's day": {200},
    "reserve": {201},
    "reserve (contested)": {201},
    "cancel": {204},
    "my reservations": {200},
}
CONFLICT_OK = {"reserve", "reserve (contested)"}


def hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


@events.request.add_listener
def _record(
    request_type: str,
    name: str,
    response_time: float,
    response_length: int,
    response: Any = None,
    exception: BaseException | None = None,
    **_: Any,
) -> None:
    status = int(getattr(response, "status_code", 0) or 0)
    STATUSES[name][status] += 1
    TIMES[name].append(response_time)


def _write_result(**_: Any) -> None:
    if not RESULT_PATH:
        return
    with open(RESULT_PATH, "w", encoding="utf-8") as handle:
        json.dump(
            {
                "statuses": {name: dict(codes) for name, codes in STATUSES.items()},
                "times_ms": dict(TIMES),
            },
            handle,
        )


events.test_stop.add_listener(_write_result)
events.quitting.add_listener(_write_result)


class Employee(FastHttpUser):
    wait_time = between(WAIT_MIN, WAIT_MAX)
    # Locust's own default would retry nothing either; say so: a retry hides errors.
    network_timeout = 30.0
    connection_timeout = 30.0

    def on_start(self) -> None:
        self.user_id = USERS[next(_next_user) % len(USERS)]
        self.mine: list[int] = []
        self.room_ids: list[int] = []
        self.headers: dict[str, str] = {}
        with self.client.post(
            "/api/auth/login",
            json={"user_id": self.user_id, "password": PASSWORD},
            name="login",
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"login {response.status_code}")
                return
            self.headers = {"Authorization": f"Bearer {response.json()['access_token']}"}
        self.browse_rooms()

    def _check(self, response: Any, name: str) -> None:
        code = response.status_code
        if code in EXPECTED[name] or (code == 409 and name in CONFLICT_OK):
            response.success()
        else:
            response.failure(f"{name}: HTTP {code}")

    @task(3)
    def browse_rooms(self) -> None:
        day = random.choice(DAYS)
        with self.client.get(
            f"/api/rooms?date={day}",
            headers=self.headers,
            name="rooms of a date",
            catch_response=True,
        ) as response:
            self._check(response, "rooms of a date")
            if response.status_code == 200:
                self.room_ids = [room["room_id"] for room in response.json()]

    @task(3)
    def room_day(self) -> None:
        if not self.room_ids:
            return
        with self.client.get(
            f"/api/rooms/{random.choice(self.room_ids)}/reservations?date={random.choice(DAYS)}",
            headers=self.headers,
            name="room's day",
            catch_response=True,
        ) as response:
            self._check(response, "room's day")

    @task(4)
    def reserve(self) -> None:
        if not self.room_ids:
            return
        if random.random() < CONTESTED:
            name = "reserve (contested)"
            room = random.choice(sorted(self.room_ids)[:2])
            day = DAYS[0]
            start, end = random.choice(HOT_RANGES)
        else:
            name = "reserve"
            room = random.choice(self.room_ids)
            day = random.choice(DAYS)
            start = random.randrange(8 * 60, 20 * 60, SLOT)
            end = start + SLOT * random.randint(1, 4)
        body = {"date": day, "start_time": hhmm(start), "end_time": hhmm(end)}
        with self.client.post(
            f"/api/rooms/{room}/reservations",
            json=body,
            headers=self.headers,
            name=name,
            catch_response=True,
        ) as response:
            self._check(response, name)
            if response.status_code == 201:
                self.mine.append(response.json()["reservation_id"])

    @task(1)
    def cancel(self) -> None:
        if not self.mine:
            return
        reservation_id = self.mine.pop(random.randrange(len(self.mine)))
        with self.client.delete(
            f"/api/reservations/{reservation_id}",
            headers=self.headers,
            name="cancel",
            catch_response=True,
        ) as response:
            self._check(response, "cancel")

    @task(2)
    def my_reservations(self) -> None:
        with self.client.get(
            "/api/reservations/mine",
            headers=self.headers,
            name="my reservations",
            catch_response=True,
        ) as response:
            self._check(response, "my reservations")
