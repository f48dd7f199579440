"""`Database.reading`: the alert check's reads run outside any transaction, on a SQLite file
and PostgreSQL. A read neither waits for a transaction that is writing (on SQLite: for the
engine's write turn) nor sees what that transaction has not committed."""

from __future__ import annotations

import asyncio

from storage.db import Database
from storage.repos import CohortRepo
from tests.factories import make_cohort


async def test_a_read_does_not_wait_for_a_writer_nor_see_its_rows(db: Database) -> None:
    first = await make_cohort(db)
    async with db.transaction() as writing:
        await CohortRepo(writing).link_group(first, -100)
        # the writer holds its transaction (and SQLite's write turn) while the read runs:
        # a read that waited for it would never finish here
        async with asyncio.timeout(10), db.reading() as s:
            seen = await CohortRepo(s).get(first)
        assert seen is not None and seen.group_chat_id is None  # the last committed state
    async with db.reading() as s:
        after = await CohortRepo(s).get(first)
    assert after is not None and after.group_chat_id == -100
