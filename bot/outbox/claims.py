"""The outbox's batch bookkeeping: one transaction claims a batch and records what was sent.

A send costs one transaction, its claim: the rows sent since the last transaction are marked
`sent` at the start of the next one (`_transaction`). The claim also gives back all but each
chat's first row, reclaims stale `sending` rows now and then (counted as repeats) and refreshes
the depth and age gauges. `OutboxSender` (bot.outbox.sender) builds on this.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot import metrics
from bot.outbox.pacing import RateLimiter
from storage.db import Database, Session
from storage.records import OutboxItem
from storage.repos.outbox import OutboxRepo

log = logging.getLogger("bot.outbox.sender")  # one logger for the sender, whatever the module
# The depth and age gauges: three aggregate queries, in a claim's transaction at most this
# often (Prometheus scrapes every 15 s or so; once a second was a tenth of a batch's queries).
_GAUGES_EVERY = 5.0


@dataclass
class DrainResult:
    """What one `drain` (or one `start`…`stop` run) did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    unreachable: int = 0
    reclaimed: int = 0
    claims: int = 0  # claiming transactions (rows sent per claim: how full the batches were)


def note(level: int, item: OutboxItem, event: str, **fields: object) -> None:
    """One log line per event: outbox id, kind, event, fields; never text, never chat ids."""
    if not log.isEnabledFor(level):  # one call per message sent: skip the formatting
        return
    details = " ".join(f"{name}={value}" for name, value in fields.items())
    log.log(level, "outbox %d %s %s %s", item.id, item.kind, event, details)


class ClaimBook:
    """Claims batches and records sent rows, one transaction each (see the module docstring)."""

    db: Database
    instance_id: str
    pacer: RateLimiter
    stale_after: timedelta
    result: DrainResult
    _clock: Callable[[], float]
    _now: Callable[[], datetime]
    _busy_chats: set[int]
    _next_reclaim: float
    _next_gauges: float
    _sent: list[tuple[int, int | None, datetime]]
    _db_turn: contextlib.AbstractAsyncContextManager[Any]

    @contextlib.asynccontextmanager
    async def _transaction(self) -> AsyncIterator[Session]:
        """A transaction of this sender; it first records the messages sent since the last
        one, so a send costs one transaction (its claim), not two.

        On SQLite the sender's transactions take turns: two racing for the single write lock
        would wait in SQLite's busy handler, which sleeps in steps of milliseconds."""
        async with self._db_turn:
            sent, self._sent = self._sent, []
            try:
                async with self.db.transaction() as session:
                    await OutboxRepo(session).mark_sent_many(sent)
                    yield session
            except BaseException:
                self._sent[:0] = sent  # not recorded: the next transaction tries again
                raise

    async def _flush(self) -> None:
        """Record the messages sent so far (if any) now."""
        if not self._sent:
            return
        try:
            async with self._transaction():
                pass
        except Exception as exc:
            log.error(
                "outbox could not record %d sent rows: %s", len(self._sent), type(exc).__name__
            )

    async def _claim(self, count: int) -> list[OutboxItem]:
        now = self._now()
        exclude = self.pacer.busy_chats() | self._busy_chats
        async with self._transaction() as session:
            repo = OutboxRepo(session)
            if self._clock() >= self._next_reclaim:
                await self._reclaim(repo, now)
            items = await repo.claim(self.instance_id, now, count, exclude_chats=exclude)
            self.result.claims += 1
            items = await self._one_per_chat(repo, items, now)
            if self._clock() >= self._next_gauges:
                await self._refresh_gauges(repo, now)
        return items

    @staticmethod
    async def _one_per_chat(
        repo: OutboxRepo, items: list[OutboxItem], now: datetime
    ) -> list[OutboxItem]:
        """Keep each chat's first row of a batch, give the others back (same transaction):
        a chat's rows go one at a time, in order, and a blocked chat is tried once."""
        chats: set[int] = set()
        kept = []
        for item in items:
            if item.chat_id in chats:
                await repo.release(item.id, now)
            else:
                chats.add(item.chat_id)
                kept.append(item)
        return kept

    async def _reclaim(self, repo: OutboxRepo, now: datetime) -> None:
        self._next_reclaim = self._clock() + min(self.stale_after.total_seconds() / 4, 30.0)
        reclaimed = await repo.reclaim_stale(now, self.stale_after)
        if reclaimed:
            self.result.reclaimed += reclaimed
            metrics.OUTBOX_REPEATS.inc(reclaimed)
            log.warning("outbox reclaimed %d stale rows (counted as repeats)", reclaimed)

    async def _refresh_gauges(self, repo: OutboxRepo, now: datetime) -> tuple[int, datetime | None]:
        """Update the depth and age gauges; returns (depth, next due time)."""
        self._next_gauges = self._clock() + _GAUGES_EVERY
        depth = await repo.depth()
        metrics.OUTBOX_DEPTH.set(depth)
        metrics.OUTBOX_OLDEST_AGE.set(await repo.oldest_pending_age(now))
        return depth, await repo.next_due()
