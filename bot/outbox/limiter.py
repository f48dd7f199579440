"""The bot's one rate limiter: every request python-telegram-bot makes passes through it.

Wired into the Application (`ApplicationBuilder().rate_limiter(...)`), so a handler's reply and
the outbox's bulk send share one schedule (`bot.outbox.pacing.RateLimiter`):

- a reply (no `rate_limit_args`) books its slot at once and waits for it; when Telegram still
  answers 429 it waits `retry_after` and sends again — a burst of students is answered in
  full, late rather than never, and the handler does not fail;
- a bulk send from the outbox (`rate_limit_args=BULK` or `PAID`) has booked its slot already;
  a 429 pauses everyone and goes back to the sender, which gives the row back to the queue.

Only requests that Telegram counts as messages (sends, copies, forwards) take a slot; the
others (answering a callback, editing) only wait out a pause Telegram asked for.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import AbstractAsyncContextManager
from typing import Any, Literal

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.outbox.pacing import RateLimiter, retry_after_seconds

log = logging.getLogger(__name__)

SendClass = Literal["bulk", "paid"]
BULK: SendClass = "bulk"  # an outbox send whose slot is already booked
PAID: SendClass = "paid"  # the same, as a paid broadcast (allow_paid_broadcast)

# A reply that meets 429 after 429 gives up only after this many tries (minutes of waiting):
# the handler then fails as it would without a limiter.
_REPLY_TRIES = 20
_SLOW_REPLY = 1.0  # seconds: a reply slower than this is logged with where the time went
# Bulk requests out at once while a reply is being made: replies first in fact (the line ahead
# of a reply at the server and in the event loop is at most this long), and a class tapping
# without pause slows a round to this many requests out, never stops it.
_BULK_BESIDE_REPLIES = 2


def counts_as_message(endpoint: str) -> bool:
    """Telegram's limits count messages: sends, copies and forwards, not chat actions."""
    if endpoint in ("sendChatAction", "sendMessageDraft"):
        return False
    return endpoint.startswith(("send", "copyMessage", "forwardMessage"))


def _chat_key(data: dict[str, Any]) -> int | None:
    """The chat as an int (a @channelname has no id here: only the global limit applies)."""
    try:
        return int(data["chat_id"])
    except (KeyError, TypeError, ValueError):
        return None


class PriorityLimiter(BaseRateLimiter[SendClass]):
    """Replies first, bulk sends in the slots they leave, one pacing for the whole process."""

    def __init__(self, pacer: RateLimiter) -> None:
        self.pacer = pacer
        self.replies_retried = 0  # replies that met a 429 and went out after waiting
        # Replies being made (an update handled, any request of a handler): while there are
        # any, at most `_BULK_BESIDE_REPLIES` bulk requests are out. The limiter's slots put a
        # reply first in its queue; this puts it first in fact — otherwise it stands behind
        # every bulk request out (at the server, in the event loop): seconds during a paid
        # broadcast.
        self._replies_out = 0
        self._bulk_out = 0
        self._bulk_waiting = 0  # bulk requests waiting in `_bulk_turn`
        self._turns = asyncio.Condition()

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: SendClass | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        """Pace the request, make it; a reply that meets 429 waits and is made again."""
        counted = counts_as_message(endpoint)
        if rate_limit_args is not None:  # the outbox booked its slot; it handles 429 itself
            async with self._bulk_turn():
                return await self._once(callback, args, kwargs, counted, rate_limit_args == PAID)
        return await self._reply(callback, args, kwargs, endpoint, data, counted)

    def replying(self) -> AbstractAsyncContextManager[None]:
        """Around the handling of an update (`bot.runtime.inbox`): meanwhile at most
        `_BULK_BESIDE_REPLIES` bulk requests are out, so the reply gets most of this process's
        share of the machine, not only the limiter's slot."""
        return self._reply_out()

    @contextlib.asynccontextmanager
    async def _reply_out(self) -> AsyncIterator[None]:
        # Only while its request is made (or its update handled): a reply waiting for its
        # slot or out a 429 of its own chat holds up no bulk.
        await self._count_replies(+1)
        try:
            yield
        finally:
            await self._count_replies(-1)

    async def _count_replies(self, change: int) -> None:
        self._replies_out += change
        # Only the last reply's end can let a waiting bulk request go (`_bulk_turn`): the
        # condition's lock is taken for that alone, not twice per request of every reply.
        if not self._replies_out and self._bulk_waiting:
            async with self._turns:
                self._turns.notify_all()

    @contextlib.asynccontextmanager
    async def _bulk_turn(self) -> AsyncIterator[None]:
        """A bulk request's turn: at most `_BULK_BESIDE_REPLIES` out while replies are made."""
        async with self._turns:
            self._bulk_waiting += 1
            try:
                await self._turns.wait_for(
                    lambda: not self._replies_out or self._bulk_out < _BULK_BESIDE_REPLIES
                )
            finally:
                self._bulk_waiting -= 1
            self._bulk_out += 1
        try:
            yield
        finally:
            async with self._turns:
                self._bulk_out -= 1
                self._turns.notify_all()

    async def _reply(
        self,
        callback: Callable[..., Coroutine[Any, Any, Any]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        counted: bool,
    ) -> Any:
        """A reply: paced in the free lane; a 429 is waited out and the request made again."""
        chat_id = _chat_key(data) if counted else None
        asked = time.monotonic()
        for attempt in range(1, _REPLY_TRIES + 1):
            # A chat that had a message less than its interval ago: a 429 now is most likely
            # its own limit, and only that chat waits, not the round.
            chat_busy = chat_id is not None and self.pacer.chat_delay(chat_id) > 0
            if chat_id is not None:
                await self.pacer.acquire(chat_id, reply=True)
            await self.pacer.wait_out_pause()
            try:
                async with self._departure(counted, paid=False, reply=True), self._reply_out():
                    left = time.monotonic()
                    try:
                        return await callback(*args, **kwargs)
                    finally:
                        self._note_slow(endpoint, asked, left)
            except RetryAfter as exc:
                if attempt == _REPLY_TRIES:
                    raise
                seconds = retry_after_seconds(exc)
                self.pacer.pause(seconds, chat_id if chat_busy else None)
                if chat_busy:  # the pause of everyone is waited out above; this one here
                    await asyncio.sleep(seconds)
                self.replies_retried += 1
                log.warning("reply met 429 method=%s retry_after=%.1fs", endpoint, seconds)
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _note_slow(endpoint: str, asked: float, left: float) -> None:
        # A reply that took long: how much of it was waiting here, how much the request itself.
        now = time.monotonic()
        if now - asked > _SLOW_REPLY:
            log.info(
                "slow reply method=%s waited=%.2fs request=%.2fs",
                endpoint,
                left - asked,
                now - left,
            )

    def _departure(
        self, counted: bool, paid: bool, reply: bool = False
    ) -> AbstractAsyncContextManager[None]:
        return self.pacer.departure(paid, reply=reply) if counted else contextlib.nullcontext()

    async def _once(
        self,
        callback: Callable[..., Coroutine[Any, Any, Any]],
        args: Any,
        kwargs: dict[str, Any],
        counted: bool,
        paid: bool,
    ) -> Any:
        try:
            async with self._departure(counted, paid):
                return await callback(*args, **kwargs)
        except RetryAfter as exc:
            # Telegram does not say which limit was hit: everyone waits.
            self.pacer.pause(retry_after_seconds(exc))
            raise
