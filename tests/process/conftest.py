"""Fixtures of the process tests: a `World` (tests/processes.py) on SQLite or PostgreSQL with a
sandbox Bot API server; every process it started is killed when the test ends."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from storage import migrate
from storage.db import Database
from tests.conftest import create_pg_database, drop_pg_database, require_postgres
from tests.processes import World
from tgsandbox import SandboxServer

pytestmark = pytest.mark.slow


async def _database(backend: str, tmp: Path) -> tuple[str, Callable[[], Any] | None]:
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp / 'mentorbot.db'}", None
    await require_postgres()
    url = await create_pg_database()
    return url, lambda: drop_pg_database(url)


@pytest.fixture
async def world(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[World]:
    """SQLite unless the test is parametrized indirectly with "postgres"."""
    backend = getattr(request, "param", "sqlite")
    url, drop = await _database(backend, tmp_path)
    try:
        await migrate.upgrade(url)
        db = Database(url)
        try:
            async with SandboxServer() as api:
                world = World(api, url, db, tmp_path)
                try:
                    yield world
                finally:
                    await world.kill_all()
        finally:
            await db.dispose()
    finally:
        if drop is not None:
            await drop()
