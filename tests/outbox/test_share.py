"""The bot's rate shared among its instances: each paces at its share, by itself."""

from __future__ import annotations

import asyncio

import pytest

from bot.outbox.pacing import RateLimiter
from bot.outbox.share import RateShare
from bot.runtime.lease import LeaseKeeper
from storage.db import Database
from storage.repos.leases import LeaseRepo


class Leases:
    """Live instances as the lease table would count them; None = the database is away."""

    def __init__(self, *counts: int | None) -> None:
        self.counts = list(counts)
        self.epoch = 1  # leases this instance has taken

    async def live_instances(self) -> int:
        count = self.counts.pop(0)
        if count is None:
            raise ConnectionError("database away")
        return count


async def test_without_leases_one_instance_has_the_whole_rate() -> None:
    pacer = RateLimiter(30)
    assert await RateShare(pacer, 30).refresh() == 30


async def test_each_instance_takes_its_share_and_follows_the_count() -> None:
    pacer = RateLimiter(30)
    share = RateShare(pacer, 30, Leases(3, 2, 0))
    assert await share.refresh() == pytest.approx(10)  # three instances: 10/s each
    assert pacer.bulk_rate == pytest.approx(10)
    assert pacer.paid_rate == pytest.approx(1000 / 3)  # and a third of the paid budget
    assert await share.refresh() == pytest.approx(15)  # one stopped: the others take more
    assert pacer.paid_rate == pytest.approx(500)
    assert await share.refresh() == pytest.approx(30)  # no lease seen (yet): never divide by 0
    assert pacer.paid_rate == pytest.approx(1000)


async def test_a_failed_count_keeps_the_last_share_and_the_loop_goes_on() -> None:
    pacer = RateLimiter(30)
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        if len(slept) == 3:
            raise asyncio.CancelledError

    share = RateShare(pacer, 30, Leases(2, None, 3), every=5.0, sleep=sleep)
    with pytest.raises(asyncio.CancelledError):
        await share.run()
    assert slept == [5.0, 5.0, 5.0]
    assert pacer.rate == pytest.approx(10)  # 15, kept through the failure, then 10


async def test_instances_share_the_bot_rate_through_their_leases(db: Database) -> None:
    """Three instances on one database pace at a third of the bot's rate each; when one stops
    (its lease is given back) the other two take half each."""
    keepers = [LeaseKeeper(db, f"instance-{n}") for n in range(3)]
    for keeper in keepers:
        await keeper.start()
    try:
        pacer = RateLimiter(30)
        share = RateShare(pacer, 30, keepers[0])
        assert await share.refresh() == 10
        await keepers[2].stop()
        assert await share.refresh() == 15
    finally:
        for keeper in keepers[:2]:
            await keeper.stop()


async def test_a_newcomer_among_instances_holds_bulk_until_the_others_shrank() -> None:
    """The others learn of a new instance at their next count: until then (and one window
    more) they may still pace at the old share, so the newcomer sends no bulk."""
    clock = [100.0]
    pacer = RateLimiter(30, clock=lambda: clock[0])
    leases = Leases(3, 3, 3)
    share = RateShare(pacer, 30, leases, every=2.0)
    await share.refresh()
    assert pacer.bulk_held_for() == pytest.approx(3.0)  # every + one window
    clock[0] += 1.0
    await share.refresh()  # the same lease: no new hold
    assert pacer.bulk_held_for() == pytest.approx(2.0)
    clock[0] += 5.0
    leases.epoch = 2  # taken for dead, a new lease: a newcomer again
    await share.refresh()
    assert pacer.bulk_held_for() == pytest.approx(3.0)


async def test_the_only_instance_holds_nothing() -> None:
    pacer = RateLimiter(30)
    await RateShare(pacer, 30, Leases(1)).refresh()
    assert pacer.bulk_held_for() == 0


async def test_a_lease_counts_as_new_when_taken_again(db: Database) -> None:
    keeper = LeaseKeeper(db, "instance-epoch")
    await keeper.start()
    try:
        assert keeper.epoch == 1
        async with db.transaction() as session:  # another instance reaped it as dead
            await LeaseRepo(session).release("instance-epoch")
        await keeper.renew()
        assert keeper.epoch == 2
    finally:
        await keeper.stop()


async def test_after_a_stall_longer_than_its_lease_an_instance_sends_nothing_until_it_counted(
    db: Database,
) -> None:
    """Taken for dead, the others grow their shares: this one may not send (not even a reply)
    until it holds a new lease and has counted the instances under it."""
    clock = [0.0]
    keeper = LeaseKeeper(db, "instance-stalled", ttl=10.0, monotonic=lambda: clock[0])
    await keeper.start()
    ran = asyncio.Event()

    async def sleep(seconds: float) -> None:
        ran.set()
        await asyncio.Event().wait()  # the next count is up to the test

    pacer = RateLimiter(30)
    share = RateShare(pacer, 30, keeper, sleep=sleep)
    runner = asyncio.create_task(share.run())
    try:
        await ran.wait()
        assert pacer.may_send()
        clock[0] += 11.0  # no renewal for longer than the ttl
        assert not pacer.may_send()
        async with db.transaction() as session:  # another instance reaped it
            await LeaseRepo(session).release("instance-stalled")
        await keeper.renew()  # a new lease: fresh again, but not yet counted under it
        assert keeper.fresh() and not pacer.may_send()
        await share.refresh()
        assert pacer.may_send()
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)
        await keeper.stop()
    assert pacer.may_send()  # the share no longer kept (the bot stopping): no gate
