"""SQLite run in the event loop's thread (storage.sqlite_inloop): writers in this process and
in another all get their rows stored, a write lock held elsewhere never stalls the loop, and one
held past the busy timeout ends in the same "database is locked" error as before."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import bindparam, column, insert, table, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from storage.db import Database
from storage.repos.core import execute, rows

WRITER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
for i in range(int(sys.argv[2])):
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO notes (who, n) VALUES ('other', ?)", (i,))
    conn.execute("COMMIT")
"""

HOLDER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("COMMIT")
"""


@pytest.fixture
async def notes(sqlite_url: str) -> AsyncIterator[Database]:
    db = Database(sqlite_url, busy_timeout=1.0)
    async with db.engine.begin() as conn:
        await conn.execute(text("CREATE TABLE notes (who TEXT, n INTEGER)"))
    try:
        yield db
    finally:
        await db.dispose()


def path_of(db: Database) -> str:
    return make_url(db.url).database or ""


async def python(script: str, *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, *args, stdout=asyncio.subprocess.PIPE
    )


@asynccontextmanager
async def ticker() -> AsyncIterator[list[float]]:
    """The longest pause of the event loop meanwhile (a stalled loop shows here)."""
    longest = [0.0]

    async def tick() -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(0.01)
            now = time.monotonic()
            longest[0] = max(longest[0], now - last)
            last = now

    task = asyncio.create_task(tick())
    try:
        yield longest
    finally:
        task.cancel()


async def write(db: Database, who: str, count: int) -> None:
    for _ in range(count):
        async with db.transaction() as s:
            before = await s.scalar(text("SELECT count(*) FROM notes WHERE who = :w"), {"w": who})
            await s.execute(text("INSERT INTO notes VALUES (:w, :n)"), {"w": who, "n": before})


async def test_writers_here_and_in_another_process_all_store_their_rows(notes: Database) -> None:
    other = await python(WRITER, path_of(notes), "200")
    await asyncio.gather(*(write(notes, f"task{i}", 20) for i in range(8)))
    assert await other.wait() == 0
    async with notes.transaction() as s:
        rows = (await s.execute(text("SELECT who, n FROM notes"))).all()
    assert len(rows) == 8 * 20 + 200
    for i in range(8):  # each read saw its own task's rows: no lost update
        assert sorted(n for who, n in rows if who == f"task{i}") == list(range(20))


async def test_a_lock_held_by_another_process_waits_without_stalling_the_loop(
    notes: Database,
) -> None:
    holder = await python(HOLDER, path_of(notes), "0.6")
    assert holder.stdout is not None
    assert await holder.stdout.readline() == b"locked\n"
    async with ticker() as longest:
        started = time.monotonic()
        await asyncio.gather(*(write(notes, f"task{i}", 2) for i in range(4)))
        waited = time.monotonic() - started
    assert await holder.wait() == 0
    assert waited >= 0.3  # the writers did wait for the other process
    assert longest[0] < 0.3  # while the loop went on (a busy wait in SQLite would block it)
    async with notes.transaction() as s:
        assert await s.scalar(text("SELECT count(*) FROM notes")) == 8


async def test_a_lock_held_past_the_busy_timeout_ends_in_database_is_locked(
    notes: Database,
) -> None:
    holder = await python(HOLDER, path_of(notes), "3")
    assert holder.stdout is not None
    await holder.stdout.readline()
    try:
        async with ticker() as longest:
            started = time.monotonic()
            with pytest.raises(OperationalError, match="database is locked"):
                await write(notes, "late", 1)
            # a second writer of this process waited its turn, then met the same lock
            with pytest.raises(OperationalError, match="database is locked"):
                await asyncio.gather(write(notes, "a", 1), write(notes, "b", 1))
        assert 0.9 <= time.monotonic() - started < 2.9
        assert longest[0] < 0.3
    finally:
        assert await holder.wait() == 0
    await write(notes, "after", 1)  # the engine works again once the lock is gone
    async with notes.transaction() as s:
        assert await s.scalar(text("SELECT count(*) FROM notes")) == 1


async def test_a_transaction_inside_another_of_the_same_task_fails_at_once(
    notes: Database,
) -> None:
    async with notes.transaction() as outer:
        await outer.execute(text("INSERT INTO notes VALUES ('outer', 1)"))
        with pytest.raises(RuntimeError, match="while this task's transaction is open"):
            async with notes.transaction() as inner:
                await inner.execute(text("SELECT 1"))
    async with notes.transaction() as s:
        assert await s.scalar(text("SELECT count(*) FROM notes")) == 1


_NOTES = table("notes", column("who"), column("n"))
_ADD = insert(_NOTES).values(who=bindparam("who"), n=bindparam("n"))  # built once, for `rows`


class _Stop(Exception):
    pass


async def test_rows_core_and_orm_statements_of_a_transaction_land_together_or_not_at_all(
    notes: Database,
) -> None:
    """The writer connection (`Database._writing`): the three ways a repository writes share
    one transaction, a failure stores none of them, and two tasks' transactions take turns."""
    async with notes.transaction() as s:
        await rows(s, _ADD, {"who": "rows", "n": 1})
        await execute(s, _ADD, {"who": "core", "n": 2})
        await s.execute(text("INSERT INTO notes VALUES ('orm', 3)"))
    with pytest.raises(_Stop):
        async with notes.transaction() as s:
            await s.execute(text("INSERT INTO notes VALUES ('orm', 4)"))
            await rows(s, _ADD, {"who": "rows", "n": 5})
            raise _Stop

    async def two(who: str) -> None:
        async with notes.transaction() as s:
            await rows(s, _ADD, {"who": who, "n": 6})
            await asyncio.sleep(0)  # the other task runs meanwhile: its transaction waits
            await rows(s, _ADD, {"who": who, "n": 7})

    await asyncio.gather(two("a"), two("b"))
    async with notes.reading() as s:
        stored = [
            tuple(r) for r in await s.execute(text("SELECT who, n FROM notes ORDER BY rowid"))
        ]
    assert stored == [("rows", 1), ("core", 2), ("orm", 3), ("a", 6), ("a", 7), ("b", 6), ("b", 7)]
