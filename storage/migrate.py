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


def _with_connection(conn: Connection, action: object) -> None:
    config = alembic_config()
    config.attributes["connection"] = conn
    action(config)  # type: ignore[operator]
