"""Fixtures shared by all tests.

Every test that needs a database gets its own PostgreSQL database (or SQLite file),
copied from a migrated template made once per run, so tests never see each other's data
and no test pays for running every migration. The server is
looked for only when a test asks for a database (`postgres_server`): pure tests need none.
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from mrs.accounts import users
from mrs.accounts.models import Role, UserStatus
from mrs.accounts.session_cookie import SESSION_COOKIE
from mrs.app import create_app
from mrs.clock import FixedClock
from mrs.db.engine import Database, make_sync_engine
from mrs.db.migrate import upgrade
from mrs.rooms import service as rooms_service
from mrs.settings import Settings
from tests import support

TOKYO = ZoneInfo("Asia/Tokyo")
# A Monday morning in Tokyo: tests reserve relative to this pinned "now".
PINNED_NOW = datetime(2030, 1, 7, 9, 0, tzinfo=TOKYO)
DEFAULT_PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The test PostgreSQL server's admin URL; checked only when a test needs a database.

    Pure tests (rules, rendering, settings) run with no server at all. A test that needs
    one fails (never skips) with how to start it.
    """
    reason = support.postgres_reachable()
    if reason is not None:
        pytest.fail(
            f"PostgreSQL is not reachable at {support.ADMIN_URL} ({reason}). Start it with: "
            "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start "
            "(or set MRS_TEST_DATABASE_URL)",
            pytrace=False,
        )
    return support.ADMIN_URL


@pytest.fixture(scope="session")
def template_database(postgres_server: str) -> Iterator[str]:
    """A migrated database to copy for each test (name)."""
    name = support.create_database("mrs_template")
    settings = Settings(data_dir=Path("/nonexistent"), database_url=support.database_url(name))
    engine = make_sync_engine(settings)
    upgrade(engine)
    engine.dispose()
    yield name
    support.drop_database(name)


BOTH_DATABASES = ("postgresql", "sqlite")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests marked `both_databases` run once on PostgreSQL and once on embedded SQLite."""
    if (
        metafunc.definition.get_closest_marker("both_databases") is not None
        and "database_url" in metafunc.fixturenames
    ):
        metafunc.parametrize("database_url", BOTH_DATABASES, indirect=True)


@pytest.fixture
def database_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh, migrated database for one test: PostgreSQL, or a new SQLite file for the
    `sqlite` run of a test marked `both_databases`."""
    if getattr(request, "param", "postgresql") == "sqlite":
        yield request.getfixturevalue("sqlite_url")
        return
    template = request.getfixturevalue("template_database")
    with support.throwaway_database("mrs_test", template=template) as url:
        yield url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file to copy for each test."""
    folder = tmp_path_factory.mktemp("sqlite-template")
    path = folder / "template.sqlite3"
    engine = make_sync_engine(Settings(data_dir=folder, database_url=f"sqlite:///{path}"))
    upgrade(engine)
    engine.dispose()
    # Closing the last connection folds the write-ahead log into the file; a copy of the
    # file alone is then the whole database.
    assert not path.with_name(path.name + "-wal").exists()
    return path


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    """A fresh, migrated SQLite database for one test."""
    path = tmp_path / "test.sqlite3"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        secret_key="test-secret-key-0123456789-0123456789-0123456789",
    )


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(PINNED_NOW)


@pytest.fixture
def today(clock: FixedClock, settings: Settings) -> date:
    return clock().astimezone(settings.tz).date()


@pytest.fixture
def tomorrow(today: date) -> date:
    return today + timedelta(days=1)


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Database]:
    database = Database(settings)
    yield database
    await database.dispose()


@pytest.fixture
async def app(settings: Settings, clock: FixedClock) -> AsyncIterator[Any]:
    application = create_app(settings, clock=clock)
    yield application
    await application.state.db.dispose()


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


_counter = itertools.count(1)

UserFactory = Callable[..., Awaitable[str]]


@pytest.fixture
def make_user(app: Any, clock: FixedClock) -> UserFactory:
    """Create an ACTIVE user (USER role by default); returns the user id."""

    async def factory(
        user_id: str | None = None,
        *,
        role: Role = Role.USER,
        password: str = DEFAULT_PASSWORD,
        status: UserStatus = UserStatus.ACTIVE,
        email: str | None = None,
    ) -> str:
        uid = user_id or f"user{next(_counter)}"
        await users.create_user(
            app.state.db,
            user_id=uid,
            password=password,
            email=email or f"{uid}@example.com",
            first_name="Test",
            last_name=uid.capitalize(),
            role=role,
            status=status,
            now=clock(),
        )
        return uid

    return factory


LoginFactory = Callable[..., Awaitable[dict[str, str]]]


@pytest.fixture
def login(client: httpx.AsyncClient) -> LoginFactory:
    """Log a user in through the API; returns Authorization headers."""

    async def factory(user_id: str, password: str = DEFAULT_PASSWORD) -> dict[str, str]:
        response = await client.post(
            "/api/auth/login", json={"user_id": user_id, "password": password}
        )
        assert response.status_code == 200, response.text
        client.cookies.clear()  # API tests authenticate by header unless they say otherwise
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    return factory


@pytest.fixture
async def user_headers(make_user: UserFactory, login: LoginFactory) -> dict[str, str]:
    return await login(await make_user())


@pytest.fixture
async def admin_headers(make_user: UserFactory, login: LoginFactory) -> dict[str, str]:
    return await login(await make_user(role=Role.ADMIN))


PageLogin = Callable[..., Awaitable[None]]


@pytest.fixture
def page_login(client: httpx.AsyncClient) -> PageLogin:
    """Log in through the login form; the client keeps the session cookie.

    Page tests override `client` with a `browser_like_client`; this logs that client in.
    """

    async def factory(user_id: str, password: str = DEFAULT_PASSWORD) -> None:
        response = await client.post("/login", data={"user_id": user_id, "password": password})
        assert response.status_code == 303, response.text
        assert SESSION_COOKIE in client.cookies

    return factory


RoomFactory = Callable[..., Awaitable[int]]


@pytest.fixture
def make_room(app: Any, today: date) -> RoomFactory:
    """Create a room opened for the next `days` days from the pinned today; returns its id."""

    async def factory(name: str | None = None, *, days: int = 14, capacity: int | None = 6) -> int:
        room = await rooms_service.create_room(
            app.state.db,
            room_name=name or f"Room {next(_counter)}",
            capacity=capacity,
            location="1F",
        )
        if days:
            await rooms_service.open_room(
                app.state.db,
                room_id=room.room_id,
                from_date=today,
                to_date=today + timedelta(days=days - 1),
                weekdays=None,
            )
        return room.room_id

    return factory


@asynccontextmanager
async def browser_like_client(
    app: Any, origin: str = "http://testserver"
) -> AsyncIterator[httpx.AsyncClient]:
    """A client that posts forms as a browser on our own pages does (CSRF token and Origin).

    Each unsafe request gets the page's CSRF token (fetched for the client's own cookies,
    as a rendered form would embed it) and the same-origin `Origin` header.
    """
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=origin) as http:

        async def as_a_browser(request: httpx.Request) -> None:
            if request.method in ("GET", "HEAD") or "x-csrf-token" in request.headers:
                return
            token = (await http.get("/api/auth/csrf-token")).json()["csrf_token"]
            request.headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in http.cookies.items())
            request.headers["X-CSRF-Token"] = token
            request.headers["Origin"] = origin

        http.event_hooks["request"] = [as_a_browser]
        yield http
