"""What a failed send leaves behind: a pause, a retry, an unreachable chat or a failed row.

Telegram's answers (see `bot.outbox.pacing.classify`): 429 → everyone waits `retry_after`;
network trouble and 5xx → retry with backoff and jitter up to `max_attempts`; 403 or "chat not
found" → the chat is unreachable (its other pending rows too) and `on_unreachable` is called
once per member; anything else → failed. Each outcome is recorded in its own transaction,
retried briefly, because a row left `sending` would be counted as a repeat later.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from bot import metrics
from bot.outbox.claims import ClaimBook, note
from bot.outbox.pacing import Outcome, backoff_delay, classify
from bot.outbox.requests import PayloadError
from storage.records import OutboxItem
from storage.repos.outbox import OutboxRepo

OnUnreachable = Callable[[OutboxItem], Awaitable[None]]

_MARK_TRIES = 3  # an outcome left unrecorded would make the row a repeat later


class FailureHandling(ClaimBook):
    """Settles a row whose request failed (see the module docstring)."""

    max_attempts: int
    backoff_base: float
    backoff_cap: float
    on_unreachable: OnUnreachable | None
    _rng: random.Random
    _notified: set[tuple[str, int]]

    async def _handle_failure(self, item: OutboxItem, exc: Exception) -> None:
        payload_trouble = isinstance(exc, PayloadError)
        outcome = Outcome("failed", "bad_payload") if payload_trouble else classify(exc)
        metrics.SEND_ERRORS.labels(kind=outcome.kind).inc()
        if outcome.action == "pause":
            # Treated as global: Telegram does not say which limit was hit.
            self.pacer.pause(outcome.delay)
            await self._retry(item, outcome, outcome.delay)
        elif outcome.action == "retry" and item.attempts < self.max_attempts:
            delay = backoff_delay(item.attempts, self.backoff_base, self.backoff_cap, self._rng)
            await self._retry(item, outcome, delay)
        elif outcome.action == "unreachable":
            await self._unreachable(item, outcome)
        else:
            await self._mark(item, "failed", lambda repo: repo.mark_failed(item.id, outcome.kind))
            self.result.failed += 1
            note(logging.WARNING, item, "failed", kind=outcome.kind, attempts=item.attempts)

    async def _retry(self, item: OutboxItem, outcome: Outcome, delay: float) -> None:
        not_before = self._now() + timedelta(seconds=delay)
        await self._mark(
            item,
            "retry",
            lambda repo: repo.mark_retry(
                item.id, not_before, outcome.kind, possible_repeat=outcome.maybe_delivered
            ),
        )
        if outcome.maybe_delivered:
            metrics.OUTBOX_REPEATS.inc()
        self.result.retried += 1
        after = f"{delay:.2f}s"
        note(logging.WARNING, item, "retry", kind=outcome.kind, attempt=item.attempts, after=after)

    async def _unreachable(self, item: OutboxItem, outcome: Outcome) -> None:
        others: list[int] = []

        async def mark(repo: OutboxRepo) -> None:
            others.extend(await repo.mark_unreachable(item.id, outcome.kind))

        await self._mark(item, "unreachable", mark)
        self.result.unreachable += 1 + len(others)
        note(logging.WARNING, item, "unreachable", kind=outcome.kind, other_rows=len(others))
        key = ("member", item.member_id) if item.member_id is not None else ("chat", item.chat_id)
        if self.on_unreachable is None or key in self._notified:
            return
        self._notified.add(key)
        try:
            await self.on_unreachable(item)
        except Exception as exc:  # the caller's trouble must not stop deliveries
            note(logging.ERROR, item, "on_unreachable failed", error=type(exc).__name__)

    async def _mark(
        self, item: OutboxItem, what: str, action: Callable[[OutboxRepo], Awaitable[Any]]
    ) -> None:
        """Record an outcome, retrying briefly: the row must not stay `sending`."""
        for attempt in range(1, _MARK_TRIES + 1):
            try:
                async with self._transaction() as session:
                    await action(OutboxRepo(session))
                return
            except Exception as exc:
                error = type(exc).__name__
                note(logging.ERROR, item, f"not marked {what}", tried=attempt, error=error)
                if attempt < _MARK_TRIES:
                    await asyncio.sleep(0.2 * attempt)
