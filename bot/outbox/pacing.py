"""Pacing for bulk sends: Telegram's global and per-chat limits, with room left for replies.

Telegram allows about 30 messages per second per bot, 1 per second per private chat and 20 per
minute per group (SPEC §7). The limiter spaces messages evenly: each send books the earliest
slot that keeps every limit, so a waiting sender knows exactly how long to sleep and never
polls. A sender that fell a little behind (a busy event loop) may catch up at up to twice the
rate, but no second ever holds more bulk slots than the bulk rate.

Reply priority: the bulk sender (the outbox) uses only `rate × (1 − headroom)`. Interactive
replies (answers to a student's tap) do not go through the outbox and so always find that
share of the global limit free.

When Telegram answers with an error, `classify` says what to do: pause for `retry_after`,
retry after `backoff_delay`, give the chat up as unreachable, or fail the message.

Times are seconds of a monotonic clock; the clock and the sleep are injectable for tests.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
import warnings
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

DEFAULT_SEND_RATE = 30.0  # messages per second per bot
DEFAULT_HEADROOM = 0.2  # share of the global rate kept for interactive replies
PRIVATE_PER_SECOND = 1.0
GROUP_PER_MINUTE = 20.0
# A booked slot is when the request leaves, not when Telegram counts it; a little slack per
# chat keeps two requests to one chat from landing closer than its limit.
DEFAULT_CHAT_MARGIN = 0.05
# How far behind its even schedule the bulk sender may catch up (see RateLimiter._global_slot).
DEFAULT_CATCH_UP = 0.2
_PRUNE_AT = 2048  # chats remembered before past slots are forgotten
Action = Literal["pause", "retry", "unreachable", "failed"]


def send_rate_from_env(default: float = DEFAULT_SEND_RATE) -> float:
    """MENTORBOT_SEND_RATE (messages per second for the whole bot), or the default."""
    value = os.environ.get("MENTORBOT_SEND_RATE", "").strip()
    rate = float(value) if value else default
    if rate <= 0:
        raise ValueError("MENTORBOT_SEND_RATE must be positive")
    return rate


def is_group(chat_id: int) -> bool:
    """Groups and supergroups have negative ids; users have positive ones."""
    return chat_id < 0


class RateLimiter:
    """Books send slots under a global rate and per-chat rates."""

    def __init__(
        self,
        rate: float = DEFAULT_SEND_RATE,
        *,
        headroom: float = DEFAULT_HEADROOM,
        per_chat_rate: float = PRIVATE_PER_SECOND,
        group_per_minute: float = GROUP_PER_MINUTE,
        chat_margin: float = DEFAULT_CHAT_MARGIN,
        catch_up: float = DEFAULT_CATCH_UP,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if rate <= 0 or per_chat_rate <= 0 or group_per_minute <= 0:
            raise ValueError("rates must be positive")
        if not 0 <= headroom < 1:
            raise ValueError("headroom must be in [0, 1)")
        self.rate = rate
        self.headroom = headroom
        self.bulk_rate = rate * (1 - headroom)
        self._global_interval = 1 / self.bulk_rate
        self._private_interval = 1 / per_chat_rate + chat_margin
        self._group_interval = max(60 / group_per_minute, 1 / per_chat_rate) + chat_margin
        self._catch_up = max(catch_up, 0.0)
        self._clock = clock
        self._sleep = sleep
        self._schedule = float("-inf")  # the next slot of the evenly spaced bulk schedule
        self._last = float("-inf")  # the latest slot booked
        self._paused_until = float("-inf")
        # The slots of the last second: never more than the bulk rate in any one second.
        self._recent: deque[float] = deque(maxlen=max(1, int(self.bulk_rate + 1e-9)))
        self._next_chat: dict[int, float] = {}

    def chat_interval(self, chat_id: int) -> float:
        """Seconds between two messages to this chat."""
        return self._group_interval if is_group(chat_id) else self._private_interval

    def global_delay(self) -> float:
        """Seconds until the next bulk message may go to any chat."""
        now = self._clock()
        return self._global_slot(now)[1] - now

    def _global_slot(self, now: float) -> tuple[float, float]:
        """(where the schedule stands, the earliest slot the global limit allows).

        Slots follow an evenly spaced schedule. A sender that fell behind it by at most
        `catch_up` seconds (a busy event loop, a slow database) may catch up, at no more than
        twice the rate; later than that counts as idle, and the schedule starts afresh. In no
        second are there more slots than the bulk rate."""
        base = self._schedule if now - self._schedule <= self._catch_up else now
        free = max(now, base, self._last + self._global_interval / 2)
        slot = max(free, self._paused_until)
        if len(self._recent) == self._recent.maxlen:
            slot = max(slot, self._recent[0] + 1.0)
        # A slot pushed later by a limit leaves nothing to catch up on.
        return (base if slot == free else slot), slot

    def paused_for(self) -> float:
        """Seconds left of a pause Telegram asked for (0 when none)."""
        return max(0.0, self._paused_until - self._clock())

    def chat_delay(self, chat_id: int) -> float:
        """Seconds until the next message may go to this chat."""
        return max(0.0, self._next_chat.get(chat_id, float("-inf")) - self._clock())

    def delay(self, chat_id: int) -> float:
        """Seconds until a message to this chat keeps every limit."""
        return max(self.global_delay(), self.chat_delay(chat_id))

    def busy_chats(self) -> set[int]:
        """Chats that may not get a message yet (and forget those that may)."""
        now = self._clock()
        self._forget_before(now)
        return set(self._next_chat)

    def next_chat_free_in(self) -> float | None:
        """Seconds until the first busy chat frees up; None when no chat is busy."""
        now = self._clock()
        self._forget_before(now)
        if not self._next_chat:
            return None
        return min(self._next_chat.values()) - now

    def reserve(self, chat_id: int) -> float:
        """Book the earliest slot for a message to `chat_id`; returns the seconds to wait."""
        now = self._clock()
        base, slot = self._global_slot(now)
        chat_slot = self._next_chat.get(chat_id, float("-inf"))
        if chat_slot > slot:
            base = slot = chat_slot
        self._schedule = base + self._global_interval
        self._last = slot
        self._recent.append(slot)
        self._next_chat[chat_id] = slot + self.chat_interval(chat_id)
        if len(self._next_chat) > _PRUNE_AT:
            self._forget_before(now)
        return slot - now

    async def acquire(self, chat_id: int) -> float:
        """Book a slot and sleep until it; returns the seconds waited."""
        wait = self.reserve(chat_id)
        if wait > 0:
            await self._sleep(wait)
        return wait

    def pause(self, seconds: float, chat_id: int | None = None) -> None:
        """Send nothing for `seconds` (to one chat, or to anyone): Telegram said retry_after."""
        until = self._clock() + seconds
        if chat_id is None:
            # A fresh start afterwards: no catching up on the time paused.
            self._paused_until = max(self._paused_until, until)
            self._schedule = max(self._schedule, until)
        else:
            self._next_chat[chat_id] = max(self._next_chat.get(chat_id, until), until)

    def _forget_before(self, now: float) -> None:
        # A chat whose slot has passed is free; dropping it keeps the map small.
        for chat_id in [c for c, slot in self._next_chat.items() if slot <= now]:
            del self._next_chat[chat_id]


# -- Telegram's answers ----------------------------------------------------------------------

_INVALID_TOKEN_PAUSE = 60.0  # a wrong token is an operator's fix; keep rows, try again later
_BAD_REQUEST_KINDS = (  # Telegram's description → a short kind for logs and metrics
    ("chat not found", "chat_not_found"),
    ("can't parse entities", "parse_entities"),
    ("message is too long", "too_long"),
    ("button_data_invalid", "button_data"),
    ("wrong file", "bad_file"),
    ("image_process_failed", "bad_file"),
)


@dataclass(frozen=True)
class Outcome:
    """What to do about a failed request."""

    action: Action
    kind: str
    delay: float = 0.0
    maybe_delivered: bool = False  # the request may have reached Telegram before failing


_NOT_SENT_ERRORS = ("ConnectError", "ConnectTimeout", "PoolTimeout", "UnsupportedProtocol")


def classify(exc: BaseException) -> Outcome:
    """Map an exception from a send request to what the sender should do next."""
    if isinstance(exc, RetryAfter):
        return Outcome("pause", "retry_after", delay=_retry_after_seconds(exc))
    if isinstance(exc, Forbidden):
        return Outcome("unreachable", "forbidden")
    if isinstance(exc, ChatMigrated):
        return Outcome("failed", "chat_migrated")
    if isinstance(exc, InvalidToken):
        return Outcome("pause", "invalid_token", delay=_INVALID_TOKEN_PAUSE)
    if isinstance(exc, BadRequest):  # before NetworkError: BadRequest is a subclass of it
        kind = _bad_request_kind(exc.message)
        return Outcome("unreachable" if kind == "chat_not_found" else "failed", kind)
    if isinstance(exc, TimedOut):  # also a NetworkError
        # A read timeout may come after Telegram got the message; a pool timeout (no free
        # connection) is before anything was sent.
        sent = not exc.message.lower().startswith("pool timeout")
        return Outcome("retry", "timeout", maybe_delivered=sent)
    if isinstance(exc, NetworkError):
        # PTB prefixes errors of the HTTP client with "httpx."; "Unknown error in HTTP
        # implementation" is the client itself (e.g. closed); anything else is an HTTP error
        # status from the server (5xx, or 502 from a proxy).
        message = exc.message
        if message.startswith("Unknown error in HTTP implementation"):
            return Outcome("retry", "client")
        if message.startswith("httpx."):
            # a connection that failed while reading the answer may have delivered the
            # message already: count it as a possible repeat; a failed connect has not
            maybe = not any(word in message for word in _NOT_SENT_ERRORS)
            return Outcome("retry", "network", maybe_delivered=maybe)
        return Outcome("retry", "server")
    if isinstance(exc, TelegramError):
        return Outcome("failed", "telegram_error")
    return Outcome("failed", "internal")


def _retry_after_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns that the int form is deprecated
        warnings.simplefilter("ignore")
        value: Any = exc.retry_after
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    return max(seconds, 0.0)


def _bad_request_kind(description: str) -> str:
    lowered = description.lower()
    for needle, kind in _BAD_REQUEST_KINDS:
        if needle in lowered:
            return kind
    return "bad_request"


def backoff_delay(attempts: int, base: float, cap: float, rng: random.Random) -> float:
    """Seconds before retry number `attempts`: exponential, capped, with jitter (half to all
    of the step) so that many rows failing together do not come back together."""
    ceiling = min(cap, base * 2 ** max(attempts - 1, 0))
    return ceiling * rng.uniform(0.5, 1.0)
