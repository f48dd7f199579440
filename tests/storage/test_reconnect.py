"""PostgreSQL connections that died in the pool (a server restart, a dropped connection): an
idle one is pinged and replaced before use; one that died a moment after its last use fails
one transaction, and the next gets a fresh connection (the inbox and the sender retry)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from storage.db import Database
from tests.conftest import pg_server_connections
from tests.factories import make_cohort

pytestmark = pytest.mark.postgres


async def _count_cohorts(db: Database) -> int:
    async with db.transaction() as s:
        return int((await s.execute(text("SELECT count(*) FROM cohorts"))).scalar_one())


async def test_a_connection_killed_while_idle_is_replaced_unseen(pg_url: str) -> None:
    db = Database(pg_url, ping_after=0.0)  # every connection back in the pool counts as idle
    try:
        await make_cohort(db)
        assert await pg_server_connections(pg_url, kill=True) >= 1
        assert await _count_cohorts(db) == 1  # pinged, found dead, replaced: no error
    finally:
        await db.dispose()


async def test_a_connection_killed_right_after_use_fails_once_then_is_replaced(
    pg_url: str,
) -> None:
    db = Database(pg_url, ping_after=3600.0)  # never idle long enough to be pinged here
    try:
        await make_cohort(db)
        assert await pg_server_connections(pg_url, kill=True) >= 1
        with pytest.raises(DBAPIError) as failed:
            await _count_cohorts(db)
        assert failed.value.connection_invalidated  # seen as a disconnect, not a bad query
        assert await _count_cohorts(db) == 1  # the pool let go of the dead connection
    finally:
        await db.dispose()
