"""The alert check's kept connection (`storage.held_reader`), on a SQLite file and PostgreSQL:
a check reads the latest commits through it, two checks at once both read, and on PostgreSQL
a connection that died costs at most one check and leaves nothing open behind it."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from storage.db import Database
from storage.held_reader import READER
from storage.repos import CohortRepo
from storage.repos.gap_query import GapQuery
from tests.conftest import pg_server_connections
from tests.factories import make_cohort

_DEAD_CONNECTION = (
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
)


async def _class_name(db: Database, cohort_id: int) -> str:
    """What the alert check reads first: the cohort, with its one statement."""
    async with db.reading() as s:
        state = await GapQuery(s).state(cohort_id)
    assert state.cohort is not None
    return state.cohort.name


async def _team_chat(db: Database, cohort_id: int) -> int | None:
    async with db.reading() as s:
        state = await GapQuery(s).state(cohort_id)
    return state.team.group_chat_id


async def test_a_check_reads_what_was_committed_since_the_last_one(db: Database) -> None:
    cohort_id = await make_cohort(db, name="PW2A")
    assert await _team_chat(db, cohort_id) is None
    async with db.transaction() as s:
        await CohortRepo(s).link_group(cohort_id, -100)
    # the kept connection holds no snapshot of the last read (SQLite: no open read)
    assert await _team_chat(db, cohort_id) == -100


async def test_two_checks_at_once_both_read(db: Database) -> None:
    first = await make_cohort(db, name="PW2A")
    second = await make_cohort(db, name="PW3B")
    async with db.reading() as one:
        assert READER in one.info  # the first read has the kept connection
        async with db.reading() as two:
            assert READER not in two.info  # the second at the same moment: the pool's
            state_two = await GapQuery(two).state(second)
        state_one = await GapQuery(one).state(first)
    assert state_one.cohort is not None and state_one.cohort.name == "PW2A"
    assert state_two.cohort is not None and state_two.cohort.name == "PW3B"


async def test_checks_on_the_kept_connection_and_through_the_pool_share_the_cache(
    db: Database,
) -> None:
    """A check that found the kept connection busy keeps its cohort under the same key: one
    entry per class, not a second first check (~0.1 s) for a class already kept."""
    from bot.gaps.cache import GapCache
    from bot.gaps.check import gap_check

    cohort_id = await make_cohort(db, name="PW2A")
    cache = GapCache()
    async with db.reading() as one:
        assert READER in one.info
        await gap_check(one, cohort_id, cache)
        async with db.reading() as two:
            assert READER not in two.info
            await gap_check(two, cohort_id, cache)
    async with db.transaction() as three:  # SQLite: the writer connection
        await gap_check(three, cohort_id, cache)
    assert len(cache) == 1


async def test_a_check_cancelled_midway_leaves_the_next_one_a_connection(db: Database) -> None:
    """A check cancelled while it holds the kept connection (the bot stopping) gives it up:
    the next check reads as before."""
    cohort_id = await make_cohort(db, name="PW2A")
    holding = asyncio.Event()

    async def check_that_hangs() -> None:
        async with db.reading() as s:
            await GapQuery(s).state(cohort_id)
            holding.set()
            await asyncio.Event().wait()  # until cancelled

    task = asyncio.create_task(check_that_hangs())
    await holding.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await _class_name(db, cohort_id) == "PW2A"


# ----------------------------------------------------------------------------- PostgreSQL


@pytest.mark.postgres
async def test_a_kept_connection_killed_while_idle_is_replaced_unseen(pg_url: str) -> None:
    db = Database(pg_url, ping_after=0.0)  # every read counts as after an idle spell
    try:
        cohort_id = await make_cohort(db, name="PW2A")
        assert await _class_name(db, cohort_id) == "PW2A"
        assert await pg_server_connections(pg_url, kill=True) >= 1
        assert await _class_name(db, cohort_id) == "PW2A"  # pinged, found dead, replaced
    finally:
        await db.dispose()


@pytest.mark.postgres
async def test_a_kept_connection_killed_right_after_use_fails_one_check(pg_url: str) -> None:
    db = Database(pg_url, ping_after=3600.0)  # never idle long enough to be pinged here
    try:
        cohort_id = await make_cohort(db, name="PW2A")
        assert await _class_name(db, cohort_id) == "PW2A"
        assert await pg_server_connections(pg_url, kill=True) >= 1
        # which error depends on how much of the server's farewell the driver had read when
        # the check began: none (the statement meets a closed socket), its FATAL notice only
        # (asyncpg is left mid-operation: InternalClientError), or the close as well
        with pytest.raises(_DEAD_CONNECTION):
            await _class_name(db, cohort_id)
        assert await _class_name(db, cohort_id) == "PW2A"  # the dead one was let go
    finally:
        await db.dispose()


@pytest.mark.postgres
async def test_nothing_stays_open_after_dispose(pg_url: str) -> None:
    db = Database(pg_url)
    cohort_id = await make_cohort(db, name="PW2A")
    assert await _class_name(db, cohort_id) == "PW2A"
    await db.dispose()
    assert await pg_server_connections(pg_url) == 0
