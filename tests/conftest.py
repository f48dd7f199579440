"""Shared fixtures: a migrated database on every backend (SQLite always, PostgreSQL when the
server is there), settings without a .env file, and log capture."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import pytest

from bot.runtime.config import Settings
from storage import migrate
from storage.db import Database

if TYPE_CHECKING:
    from tests.harness import Harness

POSTGRES_ADMIN_URL = os.environ.get(
    "MENTORBOT_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
REQUIRE_POSTGRES = os.environ.get("MENTORBOT_REQUIRE_POSTGRES") == "1"
from tgsandbox import DEFAULT_TOKEN as TEST_TOKEN  # noqa: E402  (distinctive: searched for in logs)


async def _postgres_reachable() -> str | None:
    """None when the server answers, else the reason it does not."""
    import asyncpg

    dsn = POSTGRES_ADMIN_URL.replace("postgresql+asyncpg://", "postgresql://")
    try:
        conn = await asyncpg.connect(dsn, timeout=3)
        await conn.close()
    except Exception as exc:
        return f"PostgreSQL at {POSTGRES_ADMIN_URL} not reachable ({type(exc).__name__}: {exc})"
    return None


_PG_PROBLEM: list[str | None] = []  # empty until probed once


async def require_postgres() -> None:
    """Skip (with the reason) without a server, or fail when CI demands PostgreSQL."""
    if not _PG_PROBLEM:
        _PG_PROBLEM.append(await _postgres_reachable())
    problem = _PG_PROBLEM[0]
    if problem is None:
        return
    if REQUIRE_POSTGRES:
        pytest.fail(f"{problem}; MENTORBOT_REQUIRE_POSTGRES=1 demands it")
    pytest.skip(f"{problem}; set MENTORBOT_TEST_POSTGRES_URL to run the PostgreSQL tests")


async def create_pg_database() -> str:
    """A fresh, empty PostgreSQL database for one test; returns its URL."""
    import asyncpg

    name = f"mentorbot_test_{uuid.uuid4().hex[:12]}"
    dsn = POSTGRES_ADMIN_URL.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


async def drop_pg_database(url: str) -> None:
    import asyncpg

    name = url.rsplit("/", 1)[1]
    dsn = POSTGRES_ADMIN_URL.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def pg_server_connections(url: str, *, kill: bool = False) -> int:
    """The server's connections to the database at `url`; with `kill`, terminated as a
    server restart would."""
    import asyncpg

    dsn = POSTGRES_ADMIN_URL.replace("postgresql+asyncpg://", "postgresql://")
    admin = await asyncpg.connect(dsn)
    try:
        what = "pg_terminate_backend(pid)" if kill else "pid"
        query = f"SELECT {what} FROM pg_stat_activity WHERE datname = $1"
        return len(await admin.fetch(query, url.rsplit("/", 1)[1]))
    finally:
        await admin.close()


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    """A migrated PostgreSQL database of its own, for tests about its connections (SQLite
    has none to lose: it runs in the process)."""
    await require_postgres()
    url = await create_pg_database()
    try:
        await migrate.upgrade(url)
        yield url
    finally:
        await drop_pg_database(url)


@pytest.fixture(
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
async def empty_database_url(request: pytest.FixtureRequest, tmp_path) -> AsyncIterator[str]:
    """An empty database on each backend: a real SQLite file, a real PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'mentorbot.db'}"
        return
    await require_postgres()
    url = await create_pg_database()
    try:
        yield url
    finally:
        await drop_pg_database(url)


@pytest.fixture
async def database_url(empty_database_url: str) -> str:
    """A database migrated to the newest revision."""
    await migrate.upgrade(empty_database_url)
    return empty_database_url


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'mentorbot.db'}"


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path) -> Iterator[None]:
    """No MENTORBOT_/TELEGRAM_ variables and no .env from the developer's machine."""
    for name in list(os.environ):
        if name.startswith(("MENTORBOT_", "TELEGRAM_", "DATABASE_URL")):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    yield


def make_settings(database_url: str, api_base_url: str, **extra: object) -> Settings:
    values: dict[str, object] = {
        "TELEGRAM_BOT_TOKEN": TEST_TOKEN,
        "TELEGRAM_API_BASE_URL": api_base_url,
        "DATABASE_URL": database_url,
    }
    values.update(extra)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@asynccontextmanager
async def make_harness(database_url: str, **settings: object) -> AsyncIterator[Harness]:
    """The end-to-end harness (tests/harness.py) on `database_url`, with `settings` as
    environment values (e.g. MENTORBOT_DELETE_ON_STOP=True); fails the test on any request
    Telegram would reject."""
    from bot.app.application import build_application
    from bot.app.embedded import running
    from bot.schedule.clock import FakeClock
    from tests.harness import HARNESS_START, Harness
    from tgsandbox import SandboxServer

    async with SandboxServer() as api:
        clock = FakeClock(HARNESS_START)
        config = make_settings(database_url, api.base_url, **settings)
        application = build_application(
            config, migrate_on_start=False, clock=clock, scheduler=False
        )
        async with running(application):
            yield Harness(api, application, application.bot_data.database(), clock)
        assert api.violations == [], "requests Telegram would reject:\n" + "\n".join(api.violations)


@pytest.fixture
async def h(database_url: str) -> AsyncIterator[Harness]:
    """The end-to-end harness with the default settings, on each backend."""
    async with make_harness(database_url) as harness:
        yield harness


@pytest.fixture(autouse=True)
def _root_logging_restored() -> Iterator[None]:
    """A test that configures production logging (e.g. `mentorbot run` through CliRunner)
    must not leave a handler on a closed stream for the tests after it."""
    import logging

    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in before and not type(handler).__module__.startswith("_pytest"):
            root.removeHandler(handler)
    root.setLevel(level)


@pytest.fixture(autouse=True)
def _nothing_left_frozen() -> Iterator[None]:
    """A running bot's gap cache freezes its entries (`GapCache.settle`), and with them
    whatever else lived then: in a test, the whole app and sandbox, cycles that die when the
    test ends. Unfrozen after each test, the collector frees them as before (the bot's own
    bound, every 256 freezes of one cache, is never reached by a test's fresh Services)."""
    import gc

    yield
    gc.unfreeze()
