"""Pacing for bulk sends: Telegram's global and per-chat limits, with room left for replies.

Telegram allows about 30 messages per second per bot, 1 per second per private chat and 20 per
minute per group (SPEC §7). The limiter spaces messages evenly: each send books the earliest
slot that keeps every limit, `max(now, next global slot, next slot of the chat)`, so a waiting
sender knows exactly how long to sleep and never polls.

Reply priority: the bulk sender (the outbox) uses only `rate × (1 − headroom)`. Interactive
replies (answers to a student's tap) do not go through the outbox and so always find that
share of the global limit free.

Times are seconds of a monotonic clock; the clock and the sleep are injectable for tests.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

DEFAULT_SEND_RATE = 30.0  # messages per second per bot
DEFAULT_HEADROOM = 0.2  # share of the global rate kept for interactive replies
PRIVATE_PER_SECOND = 1.0
GROUP_PER_MINUTE = 20.0
# A booked slot is when the request leaves, not when Telegram counts it; a little slack per
# chat keeps two requests to one chat from landing closer than its limit.
DEFAULT_CHAT_MARGIN = 0.05
_PRUNE_AT = 2048  # chats remembered before past slots are forgotten


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
        self._clock = clock
        self._sleep = sleep
        self._next_global = float("-inf")
        self._next_chat: dict[int, float] = {}

    def chat_interval(self, chat_id: int) -> float:
        """Seconds between two messages to this chat."""
        return self._group_interval if is_group(chat_id) else self._private_interval

    def global_delay(self) -> float:
        """Seconds until the next bulk message may go to any chat."""
        return max(0.0, self._next_global - self._clock())

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
        slot = max(now, self._next_global, self._next_chat.get(chat_id, float("-inf")))
        self._next_global = slot + self._global_interval
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
            self._next_global = max(self._next_global, until)
        else:
            self._next_chat[chat_id] = max(self._next_chat.get(chat_id, until), until)

    def _forget_before(self, now: float) -> None:
        # A chat whose slot has passed is free; dropping it keeps the map small.
        for chat_id in [c for c, slot in self._next_chat.items() if slot <= now]:
            del self._next_chat[chat_id]
