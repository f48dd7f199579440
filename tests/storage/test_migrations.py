"""Alembic: the stairway (upgrade, downgrade, upgrade each revision) on every backend."""

from __future__ import annotations

from sqlalchemy import inspect

from storage import migrate
from storage.db import make_engine
from storage.models import Base


async def test_stairway_up_down_up_every_revision(empty_database_url: str) -> None:
    revisions = migrate.revisions()
    assert revisions, "there must be at least one migration"
    previous = "base"
    for revision in revisions:
        await migrate.upgrade(empty_database_url, revision)
        assert await migrate.current_revision(empty_database_url) == revision
        await migrate.downgrade(empty_database_url, previous)
        assert await migrate.current_revision(empty_database_url) in (None, previous)
        await migrate.upgrade(empty_database_url, revision)
        previous = revision


async def test_head_schema_matches_the_models(empty_database_url: str) -> None:
    await migrate.upgrade(empty_database_url)
    engine = make_engine(empty_database_url)
    try:
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
            columns = await conn.run_sync(
                lambda c: {t: {col["name"] for col in inspect(c).get_columns(t)} for t in tables}
            )
            indexes = await conn.run_sync(
                lambda c: {t: {i["name"] for i in inspect(c).get_indexes(t)} for t in tables}
            )
    finally:
        await engine.dispose()
    for table in Base.metadata.sorted_tables:
        assert table.name in tables
        assert columns[table.name] == {c.name for c in table.columns}, table.name
        # the models' indexes (the hot queries' own, such as the open rounds' of 0009) exist
        assert {i.name for i in table.indexes} <= indexes[table.name], table.name


async def test_upgrade_twice_is_harmless(empty_database_url: str) -> None:
    await migrate.upgrade(empty_database_url)
    await migrate.upgrade(empty_database_url)
    assert await migrate.current_revision(empty_database_url) == migrate.revisions()[-1]


async def test_instances_migrating_at_once_leave_one_schema(empty_database_url: str) -> None:
    import asyncio

    await asyncio.gather(*(migrate.upgrade(empty_database_url) for _ in range(3)))
    assert await migrate.current_revision(empty_database_url) == migrate.revisions()[-1]
