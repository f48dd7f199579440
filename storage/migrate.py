"""Schema migrations through Alembic, callable from the CLI, the bot's start and tests."""

from __future__ import annotations

import asyncio
import fcntl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TextIO

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect
from sqlalchemy.engine import make_url

from storage.db import is_sqlite, make_engine

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def revisions() -> list[str]:
    """Every revision from the first to head, in order."""
    script = ScriptDirectory.from_config(alembic_config())
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


async def upgrade(url: str, target: str = "head") -> None:
    await _run(url, lambda config: command.upgrade(config, target))


async def downgrade(url: str, target: str) -> None:
    await _run(url, lambda config: command.downgrade(config, target))


async def current_revision(url: str) -> str | None:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(_read_revision)
    finally:
        await engine.dispose()


def _read_revision(conn: Connection) -> str | None:
    if not inspect(conn).has_table("alembic_version"):
        return None
    row = conn.exec_driver_sql("SELECT version_num FROM alembic_version").first()
    return None if row is None else str(row[0])


async def _run(url: str, action: object) -> None:
    async with _sqlite_file_lock(url):
        engine = make_engine(url)
        try:
            async with engine.begin() as conn:
                await conn.run_sync(_with_connection, action)
        finally:
            await engine.dispose()


def _open_lock_file(database: str) -> TextIO:
    lock_path = Path(database).expanduser().with_suffix(".migrate-lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    return lock_path.open("a")


@asynccontextmanager
async def _sqlite_file_lock(url: str) -> AsyncIterator[None]:
    """SQLite has no advisory locks: processes (and tasks) migrating one file take turns
    through an flock on a file beside it. PostgreSQL uses an advisory lock instead."""
    database = make_url(url).database if is_sqlite(url) else None
    if not database or database == ":memory:":
        yield
        return
    handle = await asyncio.to_thread(_open_lock_file, database)
    with handle:
        await asyncio.to_thread(fcntl.flock, handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


# An arbitrary constant: the key of the PostgreSQL advisory lock taken while migrating.
MIGRATION_LOCK = 727_001


def _with_connection(conn: Connection, action: object) -> None:
    if conn.dialect.name == "postgresql":
        # Several instances start at once behind a load balancer: one migrates, the others
        # wait here and then find the schema at head. Released when the transaction ends.
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
    config = alembic_config()
    config.attributes["connection"] = conn
    action(config)  # type: ignore[operator]
