"""A survivor looks for a dead instance the moment its lease lapses, not up to a renewal period
later: until it is reaped, the updates it held (and every later update of those users, kept in
order behind them) wait. Real database (SQLite and PostgreSQL), the keeper's clock set by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.runtime.lease import LeaseKeeper
from storage.db import Database
from storage.repos.inbox import InboxRepo, Incoming
from storage.repos.leases import LeaseRepo

T0 = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
TTL = timedelta(seconds=10)


async def test_the_keeper_looks_again_when_another_lease_lapses(db: Database) -> None:
    clock = [T0]
    keeper = LeaseKeeper(db, "survivor", ttl=10, renew_every=2, now=lambda: clock[0])
    async with db.transaction() as s:
        await LeaseRepo(s).acquire("victim", "elsewhere", 4242, T0, TTL)  # renewed at T0, then died
        await InboxRepo(s).store([Incoming(1, 7, {"update_id": 1})], T0)
        assert [r.update_id for r in await InboxRepo(s).claim("victim", T0, 5)] == [1]

    clock[0] = T0 + timedelta(seconds=5)
    assert (await keeper.reap_dead()).inbox == 0
    assert keeper.next_turn == 2  # the lease runs 5 s more: the usual turn

    clock[0] = T0 + timedelta(seconds=9.5)
    assert (await keeper.reap_dead()).inbox == 0
    assert 0.5 < keeper.next_turn < 0.6  # at its end (and a hair), not 2 s from now

    clock[0] += timedelta(seconds=keeper.next_turn)
    assert (await keeper.reap_dead()).inbox == 1  # taken back at once
    assert keeper.next_turn == 2  # nobody else to watch
    async with db.transaction() as s:
        assert [r.update_id for r in await InboxRepo(s).claim("survivor", clock[0], 5)] == [1]
