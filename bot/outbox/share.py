"""The bot's rate shared among its instances: each paces at MENTORBOT_SEND_RATE / live instances.

Telegram limits the bot, not the process. Every few seconds each instance counts the instances
alive (`InstanceCount`: the instance leases, `bot.runtime.lease.LeaseKeeper`; `SingleInstance`,
a count of one, where there are none) and sets its pacing to its share, so an operator never
divides the rate by hand and instances together stay under the bot's limit.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from bot.outbox.pacing import RateLimiter

log = logging.getLogger(__name__)

REFRESH_EVERY = 5.0  # seconds between two counts of the live instances


class InstanceCount(Protocol):
    """How many instances of the bot are alive now (this one included)."""

    async def live_instances(self) -> int: ...


class SingleInstance:
    """One instance: the whole rate is this process's."""

    async def live_instances(self) -> int:
        return 1


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
        self.count: InstanceCount = count or SingleInstance()
        self.every = every
        self._sleep = sleep
        self.instances = 1

    async def refresh(self) -> float:
        """Count the live instances now and set the pacing to this one's share; returns it."""
        instances = max(1, await self.count.live_instances())
        if instances != self.instances:
            log.info("send rate shared by %d instances", instances)
        self.instances = instances
        self.pacer.set_rate(self.bot_rate / instances)
        return self.pacer.rate

    async def run(self) -> None:
        """Refresh every `every` seconds until cancelled; trouble keeps the last share."""
        while True:
            try:
                await self.refresh()
            except Exception as exc:  # a database hiccup: keep pacing at the last share
                log.warning("send rate share not refreshed: %s", type(exc).__name__)
            await self._sleep(self.every)
