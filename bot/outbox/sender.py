"""The outbox sender: delivers queued rows to Telegram within its limits (docs/operations.md).

One loop per instance claims a batch — the rows for the slots of the next tenth of a second — in
one transaction, shortly before the pacing allows the first, books a slot for each and hands
them to delivery tasks; at most `in_flight` rows are claimed and unsettled at once (by default
two batches), and of those only `max_requests()` have their request out (one or two at
Telegram's rates: a dying instance leaves at most those delivered but unrecorded). The slots
come from the pacing the bot's replies use too (`bot.outbox.limiter`): replies book theirs at
once, the outbox only a tenth of a second ahead, so replies go first and bulk takes the rest. A
row is marked `sending` (committed) before its request, so neither a restart nor a second
instance sends it again — but for the rows claimed when an instance dies: those are
reclaimed after `stale_after` and counted as repeats.

With `paid_broadcast` the bulk kinds (rounds and reminders) are sent with Telegram's
`allow_paid_broadcast` and paced by the paid budget (up to 1,000/s).

The claim/record bookkeeping lives in `bot.outbox.claims`, what a failed send leaves behind in
`bot.outbox.outcomes`. Logs name the outbox id, kind and error kind; never the text,
the chat or the token. The bot's HTTP pool must allow `in_flight` requests at once (a bare
`telegram.Bot` has a pool of one; an Application's bot has plenty).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import random
import secrets
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from telegram import Bot

from bot import metrics
from bot.outbox.claims import DrainResult, note
from bot.outbox.limiter import BULK, PAID, PriorityLimiter
from bot.outbox.outcomes import FailureHandling, OnUnreachable
from bot.outbox.pacing import DEFAULT_CHAT_MARGIN, DEFAULT_SEND_RATE, Paused, RateLimiter
from bot.outbox.requests import send_item
from storage.db import Database
from storage.records import OutboxItem
from storage.repos.outbox import OutboxRepo

__all__ = ["PAID_KINDS", "DrainResult", "OnUnreachable", "OutboxSender", "default_instance_id"]

log = logging.getLogger(__name__)

Mode = Literal["forever", "due", "empty"]

_CLAIM_AHEAD = 0.1  # seconds before its send slot a row may be claimed
# A batch holds the slots of this many seconds: one transaction per batch, not per row, and
# a reply waits at most this long behind bulk slots already booked.
_BATCH_AHEAD = 0.1
_FLUSH_AFTER = 1.0  # a wait longer than this records the sent rows first (not every batch)
PAID_KINDS = frozenset({"round", "reminder"})  # the bulk kinds a paid broadcast carries
_HOLD_LIMIT = 5.0  # a claimed row whose slot is further off than this is given back
# Paid-broadcast requests out at once per instance. A request takes a round trip, so an
# instance sends at most this many per round trip (Little's law): 34 carry its third of
# 1,000/s at a 100 ms round trip (Telegram's is 50-100 ms from Europe; 10 capped three
# instances at 600/s on an infinitely fast machine). Not the tenth of a second of the whole
# 1,000/s (100) per instance: where the machine, not the limit, bounds the rate, more requests
# out only make a longer line at the server and in the event loop, and a reply stands in that
# line (100 out per instance, at 4 ms of CPU a message: replies took 2-20 s).
_PAID_REQUESTS = 34


def _utcnow() -> datetime:
    # the wall clock by default; tests and the demo pass their own `now`
    return datetime.now(UTC)


def default_instance_id() -> str:
    """Host, process and a random part: unique per running sender."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"


class OutboxSender(FailureHandling):
    """Delivers outbox rows: `start()`/`stop()` in the bot, `drain()` in tests and the demo."""

    def __init__(
        self,
        db: Database,
        bot: Bot,
        *,
        rate: float = DEFAULT_SEND_RATE,
        per_chat_rate: float = 1.0,
        headroom: float = 0.0,
        group_per_minute: float = 20.0,
        chat_margin: float = DEFAULT_CHAT_MARGIN,
        instance_id: str | None = None,
        in_flight: int | None = None,
        paid_broadcast: bool = False,
        on_unreachable: OnUnreachable | None = None,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = _utcnow,
        pacer: RateLimiter | None = None,
        poll_interval: float = 1.0,
        stale_after: timedelta = timedelta(minutes=5),
        max_attempts: int = 6,
        backoff_base: float = 1.0,
        backoff_cap: float = 300.0,
        rng: random.Random | None = None,
    ) -> None:
        if in_flight is not None and in_flight < 1:
            raise ValueError("in_flight must be at least 1")
        self.db = db
        self.bot = bot
        self.instance_id = instance_id or default_instance_id()
        limiter = getattr(bot, "rate_limiter", None)
        if pacer is None and isinstance(limiter, PriorityLimiter):
            pacer = limiter.pacer  # the one pacing of the process, shared with the replies
        self.pacer = pacer or RateLimiter(
            rate,
            headroom=headroom,
            per_chat_rate=per_chat_rate,
            group_per_minute=group_per_minute,
            chat_margin=chat_margin,
            clock=clock,
        )
        # Through the bot's own limiter (an Application's bot), or pacing by itself (a bare Bot).
        self._via_limiter = isinstance(limiter, PriorityLimiter) and limiter.pacer is self.pacer
        self.in_flight = in_flight
        self.paid_broadcast = paid_broadcast
        self.on_unreachable = on_unreachable
        self.poll_interval = poll_interval
        self.stale_after = stale_after
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.result = DrainResult()
        self._clock = clock
        self._now = now
        self._rng = rng or random.Random()
        self._runner: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._busy_chats: set[int] = set()  # chats with a request in flight
        self._notified: set[tuple[str, int]] = set()  # members told about as unreachable
        self._stopping = False
        self._stop_event = asyncio.Event()
        self._wake = asyncio.Event()
        self._next_reclaim = float("-inf")
        self._next_gauges = float("-inf")
        self._sent: list[tuple[int, int | None, datetime]] = []  # sent, not yet recorded
        self._db_turn: contextlib.AbstractAsyncContextManager[Any] = (
            asyncio.Lock() if db.is_sqlite else contextlib.nullcontext()
        )

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Run the sender in a background task until `stop()`."""
        if self._runner is not None:
            raise RuntimeError("the outbox sender is already running")
        self._reset()
        self._runner = asyncio.create_task(self._run("forever"), name="outbox-sender")

    async def stop(self, timeout: float | None = 30.0) -> None:  # noqa: ASYNC109
        """Claim nothing more, let the requests in flight finish (and be marked), return.

        After `timeout` the remaining requests are cancelled: their rows stay `sending` and
        are reclaimed (as repeats) by the next sender once stale."""
        if self._runner is None:
            return
        self._stopping = True
        self._stop_event.set()
        self._wake.set()
        runner, self._runner = self._runner, None
        try:
            await asyncio.wait_for(asyncio.shield(runner), timeout)
        except TimeoutError:
            log.warning("outbox sender stop timed out; cancelling %d requests", len(self._tasks))
            for task in list(self._tasks):
                task.cancel()
            runner.cancel()
            await asyncio.gather(runner, *self._tasks, return_exceptions=True)
        log.info("outbox sender stopped instance=%s", self.instance_id)

    def wake(self) -> None:
        """New rows were queued: look now instead of at the next poll."""
        self._wake.set()

    async def drain(self, until_empty: bool = True) -> DrainResult:
        """Send in the foreground and return what this drain did.

        `until_empty`: until no row is pending at all (waiting out retries); otherwise until
        nothing is due any more."""
        if self._runner is not None:
            raise RuntimeError("drain() while the sender runs in the background")
        self._reset()
        await self._run("empty" if until_empty else "due")
        return self.result

    @property
    def running(self) -> bool:
        return self._runner is not None and not self._runner.done()

    def max_requests(self) -> int:
        """Requests out at once: the ones a dying instance may leave delivered but unrecorded
        (one or two), more only as the rate needs them (a tenth of a second's; for a paid
        broadcast at most `_PAID_REQUESTS`)."""
        if self.in_flight:
            return self.in_flight
        wanted = max(2, math.ceil(self.pacer.lane_rate(self.paid_broadcast) / 10))
        return min(wanted, _PAID_REQUESTS) if self.paid_broadcast else wanted

    def _reset(self) -> None:
        self._requests = asyncio.Semaphore(self.max_requests())
        self._stopping = False
        self._stop_event = asyncio.Event()
        self._wake = asyncio.Event()
        self.result = DrainResult()
        self._next_reclaim = float("-inf")  # a fresh start looks for stale claims at once

    # -- the loop --------------------------------------------------------------------------

    def batch_size(self) -> int:
        """Rows per claim: the slots of the next `_BATCH_AHEAD` seconds (at least one), no
        more than can have their request out at once (a row claimed long before its request
        is one a dying instance leaves to be counted as a repeat)."""
        slots = max(1, int(self.pacer.lane_rate(self.paid_broadcast) * _BATCH_AHEAD))
        return min(slots, self.max_requests())

    def max_in_flight(self) -> int:
        """Rows claimed and not yet settled: `in_flight`, or two batches by default."""
        return self.in_flight or max(2, 2 * self.batch_size())

    async def _run(self, mode: Mode) -> None:
        log.info("outbox sender running instance=%s mode=%s", self.instance_id, mode)
        try:
            while not self._stopping:
                room = self.max_in_flight() - len(self._tasks)
                # A claim for a whole batch, not for each delivery that finishes: at a paid
                # broadcast's pace a transaction per row or two was most of the database's
                # work. The pipeline keeps a batch going meanwhile (two batches in flight).
                if room < (self.batch_size() if self._tasks else 1):  # a delivery sets _wake
                    await self._wait(self._wake, self.poll_interval)
                    self._wake.clear()
                    continue
                items = await self._next_or_none()
                for item in items:
                    self._spawn(item)
                if items:
                    continue
                if self._stopping or await self._idle(mode):
                    break
        finally:
            # A clean stop: the requests in flight finish and are marked.
            await asyncio.gather(*self._tasks, return_exceptions=True)
            await self._flush()

    async def _next_or_none(self) -> list[OutboxItem]:
        """The next rows to send, claimed; none when nothing may go now (or on DB trouble).

        The batch is sized after the wait for its slots, not before: deliveries finish during
        it, and a batch sized before would claim only the one or two rows that had room then
        — a transaction per row or two whenever the pipeline runs full."""
        # Claim just ahead of the next global slot: close enough that the database round
        # trip overlaps the wait, never long before (a claimed row should be about to go).
        delay = self.pacer.global_delay(self.paid_broadcast) - _CLAIM_AHEAD
        delay = max(delay, self.pacer.bulk_held_for())  # a newcomer among instances waits
        if delay > _FLUSH_AFTER:
            await self._flush()  # do not leave sent rows unrecorded during a long pause
        if delay > 0 and await self._wait(self._stop_event, delay):
            return []
        if self._stopping:
            return []
        count = min(self.max_in_flight() - len(self._tasks), self.batch_size())
        try:
            return await self._claim(count)
        except Exception as exc:
            log.error("outbox claim failed: %s", type(exc).__name__)
            return []

    async def _idle(self, mode: Mode) -> bool:
        """Nothing to claim now: True when a drain is done, else wait for the next chance."""
        now = self._now()
        # Read before the survey: a delivery finishing during it may have put its row back
        # to pending after the survey looked.
        busy = bool(self._tasks)
        try:
            async with self._transaction() as session:
                depth, next_due = await self._refresh_gauges(OutboxRepo(session), now)
        except Exception as exc:
            log.error("outbox survey failed: %s", type(exc).__name__)
            depth, next_due = 1, None  # unknown: keep going, look again after a poll
        due_now = next_due is not None and next_due <= now
        if not busy and (depth == 0 if mode == "empty" else mode == "due" and not due_now):
            return True
        waits = [self.poll_interval]
        # Rows due already were not claimable just now (their chats busy or paced): wait for
        # a chat to free up or a delivery's wake, not zero seconds. Waiting zero made the
        # sender claim and survey ~800 times a second while a round's second message waited
        # for its chats (docs/benchmarks.md §2, ingest9).
        if next_due is not None and next_due > now:
            waits.append((next_due - now).total_seconds())
        if (free_in := self.pacer.next_chat_free_in()) is not None:
            waits.append(free_in)
        await self._wait(self._wake, max(0.0, min(waits)))
        self._wake.clear()
        return False

    @staticmethod
    async def _wait(event: asyncio.Event, seconds: float) -> bool:
        """Wait up to `seconds` for `event`; True when it came."""
        try:
            await asyncio.wait_for(event.wait(), seconds)
        except TimeoutError:
            return False
        return True

    def _paid(self, item: OutboxItem) -> bool:
        return self.paid_broadcast and item.kind in PAID_KINDS

    def _spawn(self, item: OutboxItem) -> None:
        # A chat that is still busy (two rows of one chat in a batch) books its slot when it
        # is free: booking it now would push the global schedule for everyone.
        busy = self.pacer.chat_delay(item.chat_id) > 0
        wait = None if busy else self.pacer.reserve(item.chat_id, self._paid(item))
        self._busy_chats.add(item.chat_id)
        task = asyncio.create_task(self._deliver(item, wait), name=f"outbox-{item.id}")
        self._tasks.add(task)

        def done(finished: asyncio.Task[None]) -> None:
            if not finished.cancelled() and finished.exception() is not None:
                note(logging.ERROR, item, "crashed", error=type(finished.exception()).__name__)
            self._tasks.discard(finished)
            self._busy_chats.discard(item.chat_id)
            self._wake.set()  # its outcome may make a drain finish or a chat free

        task.add_done_callback(done)

    # -- one delivery ----------------------------------------------------------------------

    async def _deliver(self, item: OutboxItem, wait: float | None) -> None:
        paid = self._paid(item)
        if wait is None:
            wait = self.pacer.chat_delay(item.chat_id)
            if wait <= _HOLD_LIMIT:
                await asyncio.sleep(wait)
                wait = self.pacer.reserve(item.chat_id, paid)
        if wait <= _HOLD_LIMIT:
            if wait > 0:
                await asyncio.sleep(wait)
            wait = self.pacer.paused_for()  # did a 429 elsewhere start a pause meanwhile?
        if wait > 0:
            await self._give_back(item, wait)
            return
        # Through the limiter, the limiter keeps the departures itself.
        departure = contextlib.nullcontext() if self._via_limiter else self.pacer.departure(paid)
        try:
            async with self._requests, departure:
                message_id = await send_item(
                    self.bot, item, paid=paid, rate_limit_args=self._limiter_mark(paid)
                )
        except Paused as paused:  # a 429 came back while it waited to leave
            await self._give_back(item, paused.seconds)
            return
        except Exception as exc:
            await self._handle_failure(item, exc)
            return
        # Recorded by the loop's next transaction (normally the very next claim).
        self._sent.append((item.id, message_id, self._now()))
        self.result.sent += 1
        metrics.MESSAGES_SENT.inc()
        note(logging.INFO, item, "sent", attempt=item.attempts)

    async def _give_back(self, item: OutboxItem, wait: float) -> None:
        # Rather than send into a pause or hold the row `sending` for long (where a dying
        # instance would leave it to be counted as a repeat).
        until = self._now() + timedelta(seconds=wait)
        await self._mark(item, "released", lambda repo: repo.release(item.id, until))
        note(logging.INFO, item, "released", after=f"{wait:.2f}s")

    def _limiter_mark(self, paid: bool) -> str | None:
        """The limiter's mark of a request whose slot is booked (through the limiter only)."""
        if not self._via_limiter:
            return None
        return PAID if paid else BULK
