"""The bot's rate shared among its instances: each paces at MENTORBOT_SEND_RATE / live instances
(and at the paid budget / live instances for paid broadcasts).

Telegram limits the bot, not the process. Every `REFRESH_EVERY` seconds each instance counts
the instances alive (`InstanceCount`: the instance leases, `bot.runtime.lease.LeaseKeeper`;
`SingleInstance`, a count of one, where there are none) and sets its pacing to its share, so an
operator never divides the rate by hand.

Why no second of Telegram's ever holds more than the bot's limit L, whatever stalls: each
instance lets a request leave only once the answer to its own request `floor(L / n)` back is a
second old (`bot.outbox.pacing._Lane.departure_delay`), so at most `floor(L / n)` of its
requests arrive within any second, and n instances together at most L — *if* they agree on n.
They do not for a moment when one starts: the others learn of it at their next count. So a
newcomer that finds others alive sends no bulk for `REFRESH_EVERY` + one window
(`RateLimiter.hold_bulk`): by then every other instance has shrunk to its new share and a
second has passed (the same when this instance had to take a new lease, having been taken for
dead). When one stops, the others grow only after its lease is gone: it sends no more by then;
one that hangs longer than its lease's ttl sends nothing until it has a new lease and has
counted under it (`RateShare.may_send`, asked before every request that counts).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from bot.outbox.pacing import RateLimiter

log = logging.getLogger(__name__)

REFRESH_EVERY = 2.0  # seconds between two counts of the live instances (as the lease renewal)
_WINDOW = 1.0  # Telegram's window: a newcomer waits one more after the others' next count


class InstanceCount(Protocol):
    """How many instances of the bot are alive now (this one included)."""

    async def live_instances(self) -> int: ...


class SingleInstance:
    """One instance: the whole rate is this process's."""

    async def live_instances(self) -> int:
        return 1


def _lease_epoch(count: InstanceCount) -> int:
    """How many leases this instance has taken (a new one after it was taken for dead)."""
    return int(getattr(count, "epoch", 0))


def _lease_fresh(count: InstanceCount) -> bool:
    """Whether this instance's lease was renewed within its ttl (True without leases)."""
    fresh = getattr(count, "fresh", None)
    return True if fresh is None else bool(fresh())


class RateShare:
    """Keeps a pacing at its share of the bot's rate."""

    def __init__(
        self,
        pacer: RateLimiter,
        bot_rate: float,
        count: InstanceCount | None = None,
        *,
        every: float = REFRESH_EVERY,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.pacer = pacer
        self.bot_rate = bot_rate
        # Telegram's paid budget is the bot's too (1,000/s), shared the same way: the pacing
        # was built with the whole of it.
        self.bot_paid_rate = pacer.paid_rate
        self.count: InstanceCount = count or SingleInstance()
        self.every = every
        self._sleep = sleep
        self.instances = 1
        self._epoch: int | None = None  # the lease the last count was made under
        self._running = False
        pacer.may_send = self.may_send

    async def refresh(self) -> float:
        """Count the live instances now and set the pacing to this one's share; returns it."""
        instances = max(1, await self.count.live_instances())
        if instances != self.instances:
            log.info("send rate shared by %d instances", instances)
        self.instances = instances
        self.pacer.set_rate(self.bot_rate / instances, self.bot_paid_rate / instances)
        epoch = _lease_epoch(self.count)
        if epoch != self._epoch:
            self._epoch = epoch
            if instances > 1:  # the others still pace at their old share: wait for them
                self.pacer.hold_bulk(self.every + _WINDOW)
                log.info("new among %d instances: bulk held %.1fs", instances, self.every + _WINDOW)
        return self.pacer.rate

    def may_send(self) -> bool:
        """While the share is kept: only with a fresh lease, counted under (see the module
        docstring). A process that stalled longer than its lease's ttl (the others have taken
        it for dead and grown their shares) sends nothing, not even a reply, until it holds a
        lease again and has counted the others under it."""
        if not self._running:
            return True
        return _lease_fresh(self.count) and _lease_epoch(self.count) == self._epoch

    async def run(self) -> None:
        """Refresh every `every` seconds until cancelled; trouble keeps the last share."""
        self._running = True
        try:
            while True:
                try:
                    await self.refresh()
                except Exception as exc:  # a database hiccup: keep pacing at the last share
                    log.warning("send rate share not refreshed: %s", type(exc).__name__)
                await self._sleep(self.every)
        finally:
            self._running = False
