"""Engine and sessions. SQLite runs in the event loop's thread (`storage.sqlite_inloop`): WAL,
foreign keys, and every transaction `BEGIN IMMEDIATE`, one at a time per engine."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.util.concurrency import await_

from storage import sqlite_inloop

# The one session type the rest of the code names, so bot/ and handlers/ never import SQLAlchemy.
Session = AsyncSession


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def make_engine(url: str, *, busy_timeout: float | None = None, **kwargs: Any) -> AsyncEngine:
    """Create the async engine; for SQLite also the folder of the file. `busy_timeout`
    (SQLite only): seconds a transaction waits for the write lock, 30 unless given."""
    if not is_sqlite(url):
        kwargs.setdefault("pool_pre_ping", True)
        return create_async_engine(url, **kwargs)
    database = make_url(url).database or ":memory:"
    if database != ":memory:":
        database = str(Path(database).expanduser())
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    timeout = sqlite_inloop.BUSY_TIMEOUT if busy_timeout is None else busy_timeout
    connect = sqlite_inloop.connector(database, sqlite_inloop.WriteTurn(), timeout)
    engine = create_async_engine(url, async_creator=connect, **kwargs)
    event.listen(engine.sync_engine, "begin", _begin_immediate)
    return engine


def _begin_immediate(connection: Connection) -> None:
    # SQLAlchemy's documented recipe for SQLite (the driver begins nothing itself), run
    # through the driver so that waiting for the write lock sleeps in the loop.
    driver = connection.connection.driver_connection
    try:
        await_(driver.begin())  # type: ignore[union-attr]
    except sqlite3.OperationalError as error:  # wrapped as a failed statement's would be
        raise OperationalError("BEGIN IMMEDIATE", None, error) from error


class Database:
    """The engine and its session factory: one session per unit of work."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return is_sqlite(self.url)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction: committed on success, rolled back on error."""
        async with self.sessions() as session, session.begin():
            yield session

    async def ping(self) -> None:
        """Raise unless the database answers `SELECT 1`."""
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()
