"""This instance's lease, and taking back the work of instances that died.

The keeper takes a lease when the services start and renews it every `renew_every` seconds;
each renewal also looks for leases that lapsed (no renewal for `ttl` seconds: the instance was
killed or hangs) and reaps them (`storage.repos.leases`): their outbox rows in flight go back
to pending, counted as possible repeats, their updates being handled go back to the inbox. A
restarted instance need not wait for its predecessor's lease to lapse: a lease on this host
whose process is gone (or whose pid is ours: a container restarted as pid 1) is reaped at once.

Leases run on wall-clock time (instances compare it through the database), never on the
schedule's clock, which tests move by hand.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from storage.db import Database
from storage.records import LeaseRecord, Reaped
from storage.repos.leases import LeaseRepo

log = logging.getLogger(__name__)

OnReaped = Callable[[Reaped], None]
_IN_THIS_PROCESS: set[str] = set()  # leases held here (tests run several bots in one process)
_LAPSE_MARGIN = 0.05  # seconds after another lease's end before it counts as lapsed here


def process_gone(pid: int) -> bool:
    """Whether no process with this pid runs on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # someone else's process: alive
        return False
    return False


class LeaseKeeper:
    """Holds `instance_id`'s lease while the services run: `start()`, `fresh()`, `stop()`."""

    def __init__(
        self,
        db: Database,
        instance_id: str,
        *,
        ttl: float = 10.0,
        renew_every: float = 2.0,
        max_attempts: int = 3,
        on_reaped: OnReaped | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db = db
        self.instance_id = instance_id
        self.ttl = timedelta(seconds=ttl)
        self.renew_every = renew_every
        self.max_attempts = max_attempts
        self.on_reaped = on_reaped
        # $HOSTNAME names a container; two containers may share a kernel's pid numbers
        self.host = (os.environ.get("HOSTNAME") or socket.gethostname())[:64]
        self.pid = os.getpid()
        self._now = now
        self._monotonic = monotonic
        self._renewed = float("-inf")  # time.monotonic() of the last renewal that held
        self.epoch = 0  # leases taken: a new one means the others may not count this one yet
        self._task: asyncio.Task[None] | None = None
        self._next_turn = renew_every  # seconds until the keeper's next renewal and reaping

    async def start(self) -> None:
        """Take the lease, reap what dead instances left, renew from now on."""
        async with self.db.transaction() as session:
            await LeaseRepo(session).acquire(
                self.instance_id, self.host, self.pid, self._now(), self.ttl
            )
        self.epoch += 1
        self._renewed = self._monotonic()
        _IN_THIS_PROCESS.add(self.instance_id)
        await self.reap_dead()
        self._task = asyncio.create_task(self._keep(), name="lease-keeper")
        log.info("lease taken instance=%s ttl=%.0fs", self.instance_id, self.ttl.total_seconds())

    def fresh(self) -> bool:
        """Whether the lease was renewed within its ttl (what `/healthz` reports)."""
        return self._monotonic() - self._renewed < self.ttl.total_seconds()

    async def stop(self) -> None:
        """Stop renewing and give the lease up (call after the work it covers stopped)."""
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        self._renewed = float("-inf")
        _IN_THIS_PROCESS.discard(self.instance_id)
        try:  # what is still claimed (a request cut off by the stop timeout) goes back too
            async with self.db.transaction() as session:
                left = await LeaseRepo(session).reap(
                    self.instance_id, self._now(), self.max_attempts
                )
        except Exception as exc:  # it lapses by itself, and the others reap it
            log.warning("lease not released: %s", type(exc).__name__)
            return
        if left.outbox or left.inbox or left.parked:
            log.warning("stopped with work left outbox=%d inbox=%d", left.outbox, left.inbox)
            if self.on_reaped is not None:
                self.on_reaped(left)

    async def _keep(self) -> None:
        while True:
            await asyncio.sleep(self._next_turn)
            self._next_turn = self.renew_every
            try:
                await self.renew()
                await self.reap_dead()
            except Exception as exc:  # the database may be back at the next turn
                log.error("lease renewal failed: %s", type(exc).__name__)

    async def live_instances(self) -> int:
        """How many instances hold a live lease now, this one included (at least 1): the
        divisor of the bot's send rate (`bot.outbox.share.RateShare`)."""
        async with self.db.transaction() as session:
            live = await LeaseRepo(session).live(self._now())
        return max(1, len(live))

    async def renew(self) -> None:
        async with self.db.transaction() as session:
            repo = LeaseRepo(session)
            if not await repo.renew(self.instance_id, self._now(), self.ttl):
                # We were taken for dead (a long pause) and our claims were given to others:
                # what we still hold can only be marked if the row is ours again, so start over.
                log.error("lease lost instance=%s; taking a new one", self.instance_id)
                await repo.acquire(self.instance_id, self.host, self.pid, self._now(), self.ttl)
                self.epoch += 1  # `RateShare` holds bulk sends until the others count it again
        self._renewed = self._monotonic()

    async def reap_dead(self) -> Reaped:
        """Take back the work of every dead instance; returns the total."""
        now = self._now()
        async with self.db.transaction() as session:
            repo = LeaseRepo(session)
            leases = await repo.all()
            dead = [lease for lease in leases if self._dead(lease, now)]
            total = await repo.reap_orphans(now, self.max_attempts)
        self._turn_at_lapse(leases, dead, now)
        for lease in dead:
            async with self.db.transaction() as session:
                reaped = await LeaseRepo(session).reap(lease.instance_id, now, self.max_attempts)
            log.warning(
                "reaped instance=%s outbox=%d inbox=%d parked=%d",
                lease.instance_id,
                reaped.outbox,
                reaped.inbox,
                reaped.parked,
            )
            total = Reaped(
                total.outbox + reaped.outbox,
                total.inbox + reaped.inbox,
                total.parked + reaped.parked,
            )
        if (dead or total.inbox or total.parked) and self.on_reaped is not None:
            self.on_reaped(total)
        return total

    def _turn_at_lapse(
        self, leases: list[LeaseRecord], dead: list[LeaseRecord], now: datetime
    ) -> None:
        """Look again the moment another lease lapses, not up to `renew_every` later: its
        updates are held (and their users' later updates wait behind them) until it is reaped."""
        reaped = {lease.instance_id for lease in dead}
        lapses = [
            (lease.expires_at - now).total_seconds()
            for lease in leases
            if lease.instance_id not in reaped and lease.instance_id not in _IN_THIS_PROCESS
        ]
        soonest = max(0.0, min(lapses)) + _LAPSE_MARGIN if lapses else self.renew_every
        self._next_turn = min(self.renew_every, soonest)

    @property
    def next_turn(self) -> float:
        """Seconds from the last look until the keeper renews and looks for dead ones again."""
        return self._next_turn

    def _dead(self, lease: LeaseRecord, now: datetime) -> bool:
        if lease.instance_id in _IN_THIS_PROCESS:
            return False
        if lease.expires_at <= now:
            return True
        # A predecessor on this host: its process is gone, or its pid is now ours.
        return lease.host == self.host and (lease.pid == self.pid or process_gone(lease.pid))
