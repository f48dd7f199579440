"""The inbox and the instance leases on real databases (SQLite file and PostgreSQL): updates
stored once, claimed one per user in order, parked after three failures, and the work of a
lapsed instance taken back."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from storage.db import Database
from storage.repos.inbox import InboxRepo, Incoming
from storage.repos.leases import LeaseRepo
from storage.repos.outbox import OutboxRepo

NOW = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
TTL = timedelta(seconds=10)


def upd(update_id: int, user: int) -> Incoming:
    return Incoming(update_id, user, {"update_id": update_id, "message": {"text": f"t{user}"}})


async def test_an_update_delivered_twice_is_stored_once(db: Database) -> None:
    async with db.transaction() as s:
        assert await InboxRepo(s).store([upd(1, 10), upd(2, 11)], NOW) == 2
    async with db.transaction() as s:
        assert await InboxRepo(s).store([upd(2, 11), upd(3, 10)], NOW) == 1
        assert (await InboxRepo(s).counts())["pending"] == 3


async def test_one_update_per_user_at_a_time_in_order(db: Database) -> None:
    async with db.transaction() as s:
        await InboxRepo(s).store([upd(5, 10), upd(3, 10), upd(4, 11), upd(6, 11)], NOW)
    async with db.transaction() as s:
        first = await InboxRepo(s).claim("a", NOW, 10)
    assert [r.update_id for r in first] == [3, 4]  # each user's oldest, nothing more
    async with db.transaction() as s:
        assert await InboxRepo(s).claim("b", NOW, 10) == []  # both users busy
        assert await InboxRepo(s).mark_handled(first[0].id, "a", NOW)
    async with db.transaction() as s:
        second = await InboxRepo(s).claim("b", NOW, 10)
    assert [r.update_id for r in second] == [5]
    async with db.transaction() as s:  # a handled update is never claimed again
        assert not await InboxRepo(s).mark_handled(first[0].id, "a", NOW)
        assert (await InboxRepo(s).get(3)).status == "handled"  # type: ignore[union-attr]


async def test_two_instances_claiming_at_once_never_share_a_user(db: Database) -> None:
    async with db.transaction() as s:
        await InboxRepo(s).store([upd(i, 100 + i % 7) for i in range(1, 50)], NOW)

    async def claim(instance: str) -> list[int]:
        async with db.transaction() as s:
            return [r.user_key for r in await InboxRepo(s).claim(instance, NOW, 5)]

    users = [u for got in await asyncio.gather(*(claim(f"i{n}") for n in range(4))) for u in got]
    assert len(users) == len(set(users)) == 7


async def test_an_update_failing_three_times_is_parked_with_its_error(db: Database) -> None:
    async with db.transaction() as s:
        await InboxRepo(s).store([upd(1, 10), upd(2, 10)], NOW)
    statuses = []
    for attempt in range(3):
        at = NOW + timedelta(seconds=attempt)
        async with db.transaction() as s:
            (row,) = await InboxRepo(s).claim("a", at, 1)
            assert row.update_id == 1  # the next update of the user waits behind it
            statuses.append(await InboxRepo(s).mark_failed(row.id, "a", "Boom", at, 3))
    assert statuses == ["pending", "pending", "parked"]
    async with db.transaction() as s:
        parked = await InboxRepo(s).parked()
        assert [(p.update_id, p.last_error, p.attempts) for p in parked] == [(1, "Boom", 3)]
        assert [r.update_id for r in await InboxRepo(s).claim("a", NOW, 5)] == [2]


async def test_handled_rows_are_pruned_after_a_day(db: Database) -> None:
    async with db.transaction() as s:
        await InboxRepo(s).store([upd(1, 10), upd(2, 11), upd(3, 12)], NOW)
        for row in await InboxRepo(s).claim("a", NOW, 2):
            await InboxRepo(s).mark_handled(row.id, "a", NOW)
    async with db.transaction() as s:
        assert await InboxRepo(s).prune(NOW, NOW) == 0
        assert await InboxRepo(s).prune(NOW + timedelta(days=1, seconds=1), NOW) == 2
        assert (await InboxRepo(s).counts())["pending"] == 1  # not handled yet: kept


async def test_a_lapsed_lease_gives_back_its_claims(db: Database) -> None:
    async with db.transaction() as s:
        leases = LeaseRepo(s)
        await leases.acquire("dead", "host", 1, NOW, TTL)
        await leases.acquire("alive", "host", 2, NOW + timedelta(seconds=8), TTL)
        await OutboxRepo(s).enqueue("k1", 1, "notice", {"text": "a"}, not_before=NOW)
        await OutboxRepo(s).enqueue("k2", 2, "notice", {"text": "b"}, not_before=NOW)
        await InboxRepo(s).store([upd(1, 10), upd(2, 11)], NOW)
    async with db.transaction() as s:
        await OutboxRepo(s).claim("dead", NOW + timedelta(seconds=1), 1)
        await OutboxRepo(s).claim("alive", NOW + timedelta(seconds=1), 1)
        await InboxRepo(s).claim("dead", NOW, 1)
        await InboxRepo(s).claim("alive", NOW, 1)
    later = NOW + timedelta(seconds=11)
    async with db.transaction() as s:
        live = await LeaseRepo(s).live(later)
        assert [lease.instance_id for lease in live] == ["alive"]
        reaped = await LeaseRepo(s).reap("dead", later, max_attempts=3)
        assert (reaped.outbox, reaped.inbox, reaped.parked) == (1, 1, 0)
        assert await LeaseRepo(s).renew("alive", later, TTL)
        assert not await LeaseRepo(s).renew("dead", later, TTL)  # gone: it must start over
    async with db.transaction() as s:
        rows = {r.dedupe_key: r for r in await OutboxRepo(s).all()}
        assert (rows["k1"].status, rows["k1"].repeats) == ("pending", 1)
        assert (rows["k2"].status, rows["k2"].claimed_by) == ("sending", "alive")
        assert (await InboxRepo(s).get(1)).status == "pending"  # type: ignore[union-attr]
        assert (await InboxRepo(s).get(2)).status == "handling"  # type: ignore[union-attr]


async def test_updates_held_by_no_lease_go_back_but_outbox_rows_stay(db: Database) -> None:
    async with db.transaction() as s:
        await LeaseRepo(s).acquire("alive", "host", 2, NOW, TTL)
        await InboxRepo(s).store([upd(1, 10), upd(2, 11)], NOW)
        await OutboxRepo(s).enqueue("k1", 1, "notice", {"text": "a"}, not_before=NOW)
    async with db.transaction() as s:
        await InboxRepo(s).claim("ghost", NOW, 1)  # an instance whose lease row is gone
        await InboxRepo(s).claim("alive", NOW, 1)
        await OutboxRepo(s).claim("cli-drain", NOW, 1)  # a sender that never held a lease
    async with db.transaction() as s:
        reaped = await LeaseRepo(s).reap_orphans(NOW, max_attempts=3)
    assert (reaped.inbox, reaped.outbox) == (1, 0)
    async with db.transaction() as s:
        assert (await InboxRepo(s).get(1)).status == "pending"  # type: ignore[union-attr]
        assert (await InboxRepo(s).get(2)).status == "handling"  # type: ignore[union-attr]
        assert (await OutboxRepo(s).by_key("k1")).status == "sending"  # type: ignore[union-attr]
