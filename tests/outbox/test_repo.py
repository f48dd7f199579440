"""The outbox repository on SQLite and PostgreSQL: queuing, claiming, outcomes."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from storage.db import Database
from storage.repos.outbox import OutboxRepo
from tests.outbox.helpers import draft, enqueue, now, rows


async def test_enqueue_is_idempotent_per_dedupe_key(db: Database) -> None:
    async with db.transaction() as s:
        repo = OutboxRepo(s)
        assert await repo.enqueue("round:1:7", 70, "round", {"text": "hoi"}) is True
        assert await repo.enqueue("round:1:7", 70, "round", {"text": "again"}) is False
    assert await enqueue(db, [draft(1), draft(2), draft(1)]) == 2
    assert await enqueue(db, [draft(1), draft(2), draft(3)]) == 1
    items = await rows(db)
    assert [item.dedupe_key for item in items] == ["round:1:7", "notice:1", "notice:2", "notice:3"]
    assert items[0].payload == {"text": "hoi"} and items[0].status == "pending"


async def test_enqueue_many_tells_which_keys_were_new(db: Database) -> None:
    async with db.transaction() as s:
        first = await OutboxRepo(s).enqueue_many([draft(1), draft(2), draft(1)], now())
    async with db.transaction() as s:
        second = await OutboxRepo(s).enqueue_many([draft(2), draft(3), draft(1)], now())
    assert sorted(first) == ["notice:1", "notice:2"] and second == ["notice:3"]
    assert [item.payload for item in await rows(db)] == [
        {"text": "message 1"}, {"text": "message 2"}, {"text": "message 3"}
    ]  # fmt: skip


async def test_enqueue_many_handles_more_rows_than_one_insert(db: Database) -> None:
    assert await enqueue(db, [draft(n) for n in range(1200)]) == 1200
    assert await enqueue(db, [draft(n) for n in range(1199, 1300)]) == 100
    async with db.transaction() as s:
        assert await OutboxRepo(s).depth() == 1300


async def test_unknown_kind_is_refused(db: Database) -> None:
    with pytest.raises(ValueError, match="kind"):
        await enqueue(db, [draft(1, kind="spam")])


async def test_attachment_and_payload_round_trip(db: Database) -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    payload = {"text": "grafiek", "photo": True, "buttons": [[{"text": "OK", "data": "t:1"}]]}
    await enqueue(db, [draft(1, payload=payload, attachment=png)])
    (item,) = await rows(db)
    assert item.attachment == png and item.payload == payload


async def test_claim_marks_rows_sending_before_returning_them(db: Database) -> None:
    await enqueue(db, [draft(1, priority=0), draft(2, priority=5), draft(3, priority=5)])
    moment = now()
    async with db.transaction() as s:
        claimed = await OutboxRepo(s).claim("inst-a", moment, 2)
    assert [item.dedupe_key for item in claimed] == ["notice:2", "notice:3"]
    assert all(item.status == "sending" and item.attempts == 1 for item in claimed)
    # Committed: another session sees the claim.
    by_key = {item.dedupe_key: item for item in await rows(db)}
    assert by_key["notice:2"].status == "sending"
    assert by_key["notice:2"].claimed_by == "inst-a"
    assert by_key["notice:2"].claimed_at == moment
    assert by_key["notice:1"].status == "pending"


async def test_claim_respects_not_before_and_excluded_chats(db: Database) -> None:
    later = now() + timedelta(minutes=5)
    await enqueue(db, [draft(1, not_before=later), draft(2, chat_id=42), draft(3, chat_id=43)])
    moment = now()
    async with db.transaction() as s:
        claimed = await OutboxRepo(s).claim("a", moment, 10, exclude_chats={42})
    assert [item.dedupe_key for item in claimed] == ["notice:3"]
    async with db.transaction() as s:
        due = await OutboxRepo(s).next_due()
        assert due is not None and due <= moment
        claimed = await OutboxRepo(s).claim("a", later, 10)
    assert [item.dedupe_key for item in claimed] == ["notice:1", "notice:2"]


async def test_concurrent_claimers_never_share_a_row(db: Database) -> None:
    await enqueue(db, [draft(n) for n in range(60)])
    moment = now()

    async def claimer(name: str) -> list[int]:
        got: list[int] = []
        while True:
            async with db.transaction() as s:
                batch = await OutboxRepo(s).claim(name, moment, 3)
            if not batch:
                return got
            assert len(batch) <= 3
            got.extend(item.id for item in batch)
            await asyncio.sleep(0)  # let the other claimer interleave

    first, second, third = await asyncio.gather(claimer("a"), claimer("b"), claimer("c"))
    assert len(first) + len(second) + len(third) == 60
    assert len(set(first) | set(second) | set(third)) == 60


@pytest.mark.postgres
@pytest.mark.parametrize("empty_database_url", ["postgres"], indirect=True)
async def test_postgres_claim_skips_rows_locked_by_an_open_claim(db: Database) -> None:
    assert not db.is_sqlite  # SQLite has one writer: a second claimer waits, nothing to skip
    await enqueue(db, [draft(n) for n in range(6)])
    moment = now()
    async with db.transaction() as first:
        held = await OutboxRepo(first).claim("a", moment, 3)
        # The first transaction is still open: its rows are locked, not yet committed.
        async with db.transaction() as second:
            other = await asyncio.wait_for(OutboxRepo(second).claim("b", moment, 3), 10)
    assert {item.dedupe_key for item in held}.isdisjoint({item.dedupe_key for item in other})
    assert len(held) == 3 and len(other) == 3


async def test_stale_sending_rows_are_reclaimed_and_counted_as_repeats(db: Database) -> None:
    await enqueue(db, [draft(1), draft(2)])
    start = now()
    async with db.transaction() as s:
        await OutboxRepo(s).claim("dead", start, 2)
    stale_after = timedelta(minutes=2)
    async with db.transaction() as s:
        # Not yet stale: nothing to take.
        assert (
            await OutboxRepo(s).claim("alive", start + timedelta(minutes=1), 5, stale_after) == []
        )
    async with db.transaction() as s:
        again = await OutboxRepo(s).claim("alive", start + timedelta(minutes=3), 5, stale_after)
    assert [(item.claimed_by, item.repeats, item.attempts) for item in again] == [
        ("alive", 1, 2),
        ("alive", 1, 2),
    ]
    async with db.transaction() as s:
        assert await OutboxRepo(s).repeats_total() == 2
        assert await OutboxRepo(s).reclaim_stale(start + timedelta(minutes=4), stale_after) == 0


async def test_outcomes(db: Database) -> None:
    await enqueue(db, [draft(n) for n in range(3)])
    moment = now()
    async with db.transaction() as s:
        a, b, c = await OutboxRepo(s).claim("a", moment, 3)
    async with db.transaction() as s:
        repo = OutboxRepo(s)
        await repo.mark_sent(a.id, 991, moment)
        await repo.mark_retry(b.id, moment + timedelta(seconds=30), "network")
        await repo.mark_failed(c.id, "bad_request" * 100)
    async with db.transaction() as s:
        repo = OutboxRepo(s)
        sent, retry, failed = await repo.get(a.id), await repo.get(b.id), await repo.get(c.id)
        assert await repo.stats() == {
            "pending": 1,
            "sending": 0,
            "sent": 1,
            "failed": 1,
            "unreachable": 0,
        }
        assert await repo.depth() == 1
        assert await repo.next_due() == moment + timedelta(seconds=30)
    assert sent is not None and sent.telegram_message_id == 991 and sent.sent_at == moment
    assert retry is not None and retry.status == "pending" and retry.claimed_by is None
    assert retry.last_error == "network"
    assert failed is not None and failed.last_error is not None and len(failed.last_error) == 300


async def test_unreachable_marks_the_other_pending_rows_of_that_chat(db: Database) -> None:
    await enqueue(db, [draft(1, chat_id=5), draft(2, chat_id=5), draft(3, chat_id=5), draft(4)])
    async with db.transaction() as s:
        (first,) = await OutboxRepo(s).claim("a", now(), 1)
    async with db.transaction() as s:
        others = await OutboxRepo(s).mark_unreachable(first.id)
    statuses = {item.dedupe_key: item.status for item in await rows(db)}
    assert statuses == {
        "notice:1": "unreachable",
        "notice:2": "unreachable",
        "notice:3": "unreachable",
        "notice:4": "pending",
    }
    assert len(others) == 2 and first.id not in others


async def test_depth_and_age_of_the_oldest_pending_row(db: Database) -> None:
    async with db.transaction() as s:
        assert await OutboxRepo(s).depth() == 0
        assert await OutboxRepo(s).oldest_pending_age(now()) == 0.0
    await enqueue(db, [draft(1)])
    async with db.transaction() as s:
        age = await OutboxRepo(s).oldest_pending_age(now() + timedelta(seconds=90))
    assert 89 <= age <= 100


async def test_mark_sent_many_records_each_row(db: Database) -> None:
    await enqueue(db, [draft(n) for n in range(3)])
    moment = now()
    async with db.transaction() as s:
        a, _, c = await OutboxRepo(s).claim("a", moment, 3)
    async with db.transaction() as s:
        await OutboxRepo(s).mark_sent_many([(a.id, 11, moment), (c.id, 33, moment)])
    statuses = [(item.status, item.telegram_message_id, item.sent_at) for item in await rows(db)]
    assert statuses == [("sent", 11, moment), ("sending", None, None), ("sent", 33, moment)]


async def test_release_gives_a_claimed_row_back_without_counting_an_attempt(db: Database) -> None:
    await enqueue(db, [draft(1)])
    moment = now()
    async with db.transaction() as s:
        (item,) = await OutboxRepo(s).claim("a", moment, 1)
    async with db.transaction() as s:
        await OutboxRepo(s).release(item.id, moment + timedelta(seconds=9))
    (back,) = await rows(db)
    assert (back.status, back.attempts, back.claimed_by) == ("pending", 0, None)
    assert back.not_before == moment + timedelta(seconds=9) and back.repeats == 0
