"""Database faults while the bot runs: a locked SQLite file, PostgreSQL dropping connections.
The student's answer is stored once the database is back, and nothing is lost."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from storage.models import Answer
from tests.conftest import POSTGRES_ADMIN_URL
from tests.harness import Harness
from tgsandbox import SandboxUser


async def first_question(h: Harness) -> tuple[SandboxUser, object]:
    cohort_id = await h.cohort()
    user = h.api.add_user("Fenna")
    await h.join(user, await h.code(cohort_id))
    await h.state.live().scheduler.push(cohort_id, "reflection", week=1)
    question = await h.api.wait_for_message(user, lambda m: "Vraag 1" in (m.text or ""))
    return user, question


async def stored_ratings(h: Harness) -> list[int | None]:
    async with h.db.transaction() as s:
        return list(await s.scalars(select(Answer.rating)))


@pytest.mark.parametrize("empty_database_url", ["sqlite"], indirect=True)
async def test_answer_waits_for_a_locked_sqlite_file_and_is_stored(h: Harness) -> None:
    assert h.db.is_sqlite
    user, question = await first_question(h)
    path = make_url(h.db.url).database
    # another process holds the write lock (in a thread: it must not block the bot's loop)
    blocker = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    await asyncio.to_thread(blocker.execute, "BEGIN EXCLUSIVE")
    try:
        mark = h.api.mark(user)
        query = await h.api.press(user, question, "4")
        bot = h.api.bot()
        tap = bot.updates[-1]["update_id"]
        await h.api.wait_until(lambda: tap in bot.delivered_update_ids)  # the bot fetched it
        with pytest.raises(TimeoutError):  # and cannot answer it while the file is locked
            await h.api.wait_for_callback_answer(query, timeout=1.5)
        # nor tell Telegram it arrived: it is not stored yet (the inbox), so it stays queued
        assert [u["update_id"] for u in bot.updates] == [tap]
    finally:
        await asyncio.to_thread(blocker.execute, "COMMIT")
        blocker.close()
    answer = await h.api.wait_for_callback_answer(query)
    assert answer.text == "Opgeslagen ✓"
    await h.api.wait_for_message(user, lambda m: "Vraag 2" in (m.text or ""), since=mark)
    assert await stored_ratings(h) == [4]


@pytest.mark.postgres
@pytest.mark.parametrize("empty_database_url", ["postgres"], indirect=True)
async def test_postgres_dropping_every_connection_loses_nothing(h: Harness) -> None:
    assert not h.db.is_sqlite
    import asyncpg

    user, question = await first_question(h)
    name = make_url(h.db.url).database
    admin = await asyncpg.connect(
        POSTGRES_ADMIN_URL.replace("postgresql+asyncpg://", "postgresql://")
    )
    try:  # what a server restart looks like from the bot: every connection is cut
        killed = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = $1 AND pid <> pg_backend_pid()",
            name,
        )
    finally:
        await admin.close()
    assert killed >= 1
    mark = h.api.mark(user)
    query = await h.api.press(user, question, "2")
    assert (await h.api.wait_for_callback_answer(query)).text == "Opgeslagen ✓"
    await h.api.wait_for_message(user, lambda m: "Vraag 2" in (m.text or ""), since=mark)
    assert await stored_ratings(h) == [2]
    await asyncio.sleep(0)
    async with h.db.transaction() as s:
        assert await s.scalar(select(func.count()).select_from(Answer)) == 1
