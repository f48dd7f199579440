"""The inbox: every update is stored before Telegram hears that it arrived, and handled from
the database exactly once in effect.

`receive()` is the intake: the poller (bot.runtime.polling) calls it before the next
getUpdates confirms the offset, the webhook before it answers 200. An update Telegram delivers
twice is stored once. The worker claims stored updates (at most one per user at a time, in
order: see storage.repos.inbox) and runs each through python-telegram-bot's
`Application.process_update`; updates of different users run side by side, up to
`concurrency`. A handler error counts as a failed try (the error handler has told the user);
the update is tried again after a pause, and after three failed tries it is parked for the
operator (logged, `inbox_parked_total`). Handled updates are deleted after a day, parked ones
after a week (they hold names and texts).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from typing import Any

from telegram import Bot, Update

from bot import metrics
from bot.runtime.updates import user_key
from storage.db import Database, Session
from storage.records import InboxRecord
from storage.repos.inbox import PARKED, InboxRepo, Incoming

log = logging.getLogger(__name__)

Process = Callable[[Update], Awaitable[None]]
Write = Callable[[Session], Awaitable[object]]

MAX_ATTEMPTS = 3
RETRY_AFTER = (2.0, 10.0)  # seconds before the second and the third try
KEEP_HANDLED = timedelta(days=1)
KEEP_PARKED = timedelta(days=7)
_PRUNE_EVERY = 3600.0  # seconds
_FRESH_LIMIT = 1000  # received updates kept parsed for the worker
_RECORD_WITHIN = 0.05  # seconds a handled update may wait to be recorded with a claim
_failures: ContextVar[list[BaseException] | None] = ContextVar("inbox_failures", default=None)
_again: ContextVar[bool] = ContextVar("inbox_again", default=False)
_writes: ContextVar[list[Write] | None] = ContextVar("inbox_writes", default=None)


def handled_again() -> bool:
    """Whether the update being handled was taken up before (by an instance that died, or a
    try that failed): its replies may never have gone out, so a handler sends them again
    rather than treating it as a double tap."""
    return _again.get()


def write_with_record(write: Write) -> bool:
    """Run `write` in the transaction that records the update being handled as handled (the
    next claim's), not in a transaction of its own: for what a handler learns only after its
    reply went out (the id of a sent question). That transaction commits before any later
    update of the same user is claimed, on any instance, so that update sees the write. An
    update that fails, or an instance that dies first, leaves it unwritten: the update is
    handled again and sends (and writes) anew. False outside the inbox: write yourself.

    A write must not fail on its own (an UPDATE by key, as `PromptRepo.set_message`): it
    shares the claim's transaction, and a failing one would be retried with every claim."""
    writes = _writes.get()
    if writes is None:
        return False
    writes.append(write)
    return True


def note_failure(error: BaseException | None) -> None:
    """Called by the error handler: the update being handled failed (it is tried again)."""
    failures = _failures.get()
    if failures is not None and error is not None:
        failures.append(error)


class Inbox:
    """Intake and worker of one instance: `receive()`, `start()`, `stop()`."""

    def __init__(
        self,
        db: Database,
        bot: Bot,
        instance_id: str,
        process: Process,
        *,
        concurrency: int = 16,
        poll_interval: float = 1.0,
        retry_after: tuple[float, ...] = RETRY_AFTER,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.db = db
        self.bot = bot
        self.instance_id = instance_id
        self.process = process
        self.concurrency = concurrency
        self.poll_interval = poll_interval
        self.retry_after = retry_after
        self._now = now
        self._wake = asyncio.Event()
        self._stopping = False
        self._runner: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._next_prune = float("-inf")
        self._next_gauge = float("-inf")
        # Handled updates not yet recorded: the next claim's transaction records them (one
        # transaction per update, not two), which also frees their users' next updates.
        self._handled: list[int] = []
        self._writes: list[Write] = []  # theirs (`write_with_record`), run with their record
        self._received = 0  # updates stored by this instance so far
        # The updates this instance received, by update id, until it handles them: no second
        # parse of the stored JSON (the row is the truth; another instance parses it)
        self._fresh: dict[int, Update] = {}
        self._record_timer: asyncio.TimerHandle | None = None

    async def receive(
        self, updates: Sequence[Update], raw: Sequence[dict[str, Any]] | None = None
    ) -> int:
        """Store updates (one transaction); returns how many were new. Raises when the
        database does not take them: then Telegram must not be told they arrived.

        `raw`: the JSON the updates were parsed from, stored as it came (`Update.to_dict()`
        rebuilt it: 0.18 ms a tap, docs/benchmarks.md §2)."""
        payloads = raw if raw is not None else [u.to_dict() for u in updates]
        incoming = [
            Incoming(u.update_id, user_key(u), p) for u, p in zip(updates, payloads, strict=True)
        ]
        async with self.db.transaction() as session:
            new = await InboxRepo(session).store(incoming, self._now())
        if new:
            self._received += new
            if new == len(incoming):  # (one seen before would never be claimed again)
                self._keep_fresh(updates)
            self._wake.set()
        if new < len(incoming):
            log.info("inbox: %d update(s) received again, ignored", len(incoming) - new)
        return new

    def _keep_fresh(self, updates: Sequence[Update]) -> None:
        for update in updates:
            self._fresh[update.update_id] = update
        while len(self._fresh) > _FRESH_LIMIT:  # handled elsewhere: forget the oldest
            del self._fresh[next(iter(self._fresh))]

    def wake(self) -> None:
        """Updates may be claimable (an instance's work was taken back): look now."""
        self._wake.set()

    def start(self) -> None:
        if self._runner is None:
            self._stopping = False
            self._runner = asyncio.create_task(self._run(), name="inbox-worker")

    async def stop(self, timeout: float = 8.0) -> None:  # noqa: ASYNC109
        """Claim nothing more; the updates being handled finish (up to `timeout`)."""
        if self._runner is None:
            return
        self._stopping = True
        self._wake.set()
        runner, self._runner = self._runner, None
        try:
            await asyncio.wait_for(asyncio.shield(runner), timeout)
        except TimeoutError:
            log.warning(
                "inbox stop timed out; %d update(s) left to the next start", len(self._tasks)
            )
            for task in [*self._tasks, runner]:
                task.cancel()
            await asyncio.gather(runner, *self._tasks, return_exceptions=True)

    async def _run(self) -> None:
        try:
            while not self._stopping:
                self._wake.clear()
                claimed = await self._claim()
                for row in claimed:
                    self._spawn(row)
                if not claimed or len(self._tasks) >= self.concurrency:
                    await self._idle()
        finally:
            await asyncio.gather(*self._tasks, return_exceptions=True)
            if self._record_timer is not None:
                self._record_timer.cancel()
                self._record_timer = None
            await self._record_handled()

    async def _claim(self) -> list[InboxRecord]:
        """Record the handled updates and claim new ones, in one transaction."""
        free = self.concurrency - len(self._tasks)
        if free <= 0 and not self._handled:
            return []
        handled, self._handled = self._handled, []
        writes, self._writes = self._writes, []
        try:
            async with self.db.transaction() as session:
                repo = InboxRepo(session)
                await repo.mark_handled_many(handled, self.instance_id, self._now())
                await _run(writes, session)
                rows = await repo.claim(self.instance_id, self._now(), free) if free > 0 else []
                if time.monotonic() >= self._next_prune:
                    await self._prune(repo)
                if time.monotonic() >= self._next_gauge:  # a count, not on every claim
                    self._next_gauge = time.monotonic() + 1.0
                    counts = await repo.counts()
                    metrics.INBOX_DEPTH.set(counts["pending"] + counts["handling"])
        except Exception as exc:
            log.error("inbox claim failed: %s", type(exc).__name__)
            self._handled[:0] = handled  # recorded with the next claim
            self._writes[:0] = writes
            return []
        return rows

    async def _record_handled(self) -> None:
        """On stop: record what is handled (briefly retried; left `handling`, a row would be
        handled again once this instance's lease lapsed)."""
        for attempt in range(3):
            if not self._handled:
                return
            handled, self._handled = self._handled, []
            writes, self._writes = self._writes, []
            try:
                async with self.db.transaction() as session:
                    await InboxRepo(session).mark_handled_many(
                        handled, self.instance_id, self._now()
                    )
                    await _run(writes, session)
            except Exception as exc:
                log.error("handled updates not recorded: %s", type(exc).__name__)
                self._handled[:0] = handled
                self._writes[:0] = writes
                await asyncio.sleep(0.2 * (attempt + 1))

    async def _prune(self, repo: InboxRepo) -> None:
        self._next_prune = time.monotonic() + _PRUNE_EVERY
        now = self._now()
        pruned = await repo.prune(now - KEEP_HANDLED, now - KEEP_PARKED)
        if pruned:
            log.info("inbox pruned rows=%d", pruned)

    async def _idle(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), self.poll_interval)

    def _spawn(self, row: InboxRecord) -> None:
        task = asyncio.create_task(self._handle(row), name=f"update-{row.update_id}")
        self._tasks.add(task)
        received = self._received

        def done(finished: asyncio.Task[None]) -> None:
            full = len(self._tasks) >= self.concurrency
            self._tasks.discard(finished)
            if full or self._received > received:
                # a slot is free, or an update came in meanwhile (maybe this user's next,
                # claimable once this one is recorded): claim now, recording it on the way
                self._wake.set()
            else:
                self._record_soon()

        task.add_done_callback(done)

    def _record_soon(self) -> None:
        """Wake the worker shortly to record what was handled: a claim that comes first (the
        user's next tap, usually) records it in its own transaction, saving one."""
        if self._record_timer is None:

            def wake() -> None:
                self._record_timer = None
                self._wake.set()

            self._record_timer = asyncio.get_running_loop().call_later(_RECORD_WITHIN, wake)

    async def _handle(self, row: InboxRecord) -> None:
        failures: list[BaseException] = []
        writes: list[Write] = []
        token, again = _failures.set(failures), _again.set(row.attempts > 1)
        pending = _writes.set(writes)
        try:
            update = self._fresh.pop(row.update_id, None)
            # replies first: at most two bulk requests out while an update is handled here
            replying = getattr(getattr(self.bot, "rate_limiter", None), "replying", None)
            async with replying() if replying else contextlib.nullcontext():
                await self.process(update or Update.de_json(row.payload, self.bot))
        except Exception as exc:  # PTB hands handler errors to the error handler; not these
            failures.append(exc)
        finally:
            _failures.reset(token)
            _again.reset(again)
            _writes.reset(pending)
        if failures:
            await self._failed(row, failures[-1])
        else:
            self._handled.append(row.id)  # recorded by the next claim (the task's end wakes it)
            self._writes += writes

    async def _failed(self, row: InboxRecord, error: BaseException) -> None:
        delay = self.retry_after[min(row.attempts, len(self.retry_after)) - 1]
        status = await self._record(row, type(error).__name__, delay)
        if status == PARKED:
            metrics.INBOX_PARKED.inc()
            log.error(
                "update %s parked after %d tries: %s",
                row.update_id,
                row.attempts,
                type(error).__name__,
            )
        else:
            log.warning(
                "update %s failed (try %d), again in %.0fs", row.update_id, row.attempts, delay
            )

    async def _record(self, row: InboxRecord, error: str, delay: float) -> str | None:
        """Write a failed try; retried briefly (left `handling`, the row would wait for our
        lease to lapse and be handled again)."""
        now = self._now()
        for attempt in range(3):
            try:
                async with self.db.transaction() as session:
                    retry_at = now + timedelta(seconds=delay)
                    return await InboxRepo(session).mark_failed(
                        row.id, self.instance_id, error, retry_at, MAX_ATTEMPTS
                    )
            except Exception as exc:
                log.error("update %s outcome not recorded: %s", row.update_id, type(exc).__name__)
                await asyncio.sleep(0.2 * (attempt + 1))
        return None


async def _run(writes: Sequence[Write], session: Session) -> None:
    for write in writes:
        await write(session)
