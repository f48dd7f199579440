"""Schema migrations through Alembic, callable from the CLI, the bot's start and tests."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect

from storage.db import make_engine

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
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_with_connection, action)
    finally:
        await engine.dispose()


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
