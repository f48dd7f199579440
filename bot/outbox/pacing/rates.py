"""Telegram's global and per-chat limits, one schedule for replies and bulk sends.

Telegram allows about 30 messages per second per bot, 1 per second per private chat and 20 per
minute per group. The limiter spaces messages evenly: each send books the earliest
slot that keeps every limit, so a waiting sender knows exactly how long to sleep and never
polls. A sender that fell a little behind (a busy event loop) may catch up at up to twice the
rate, but no window ever holds more slots than the rate.

Replies first, no idle budget: replies (through `bot.outbox.limiter.PriorityLimiter`) book
their slot the moment they are sent, without waiting for the even spacing (only the window,
a pause and the slots booked before them hold a reply back); the outbox books only the slots
of the next fraction of a second, so a reply never waits behind more than that, and bulk
sends take every slot that replies leave. Paid broadcasts have a budget of their own.

Times are seconds of a monotonic clock; the clock and the sleep are injectable for tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

DEFAULT_SEND_RATE = 30.0  # messages per second per bot
# Telegram's paid broadcasts (allow_paid_broadcast): up to 1,000 messages per second.
PAID_BROADCAST_RATE = 1000.0
PRIVATE_PER_SECOND = 1.0
GROUP_PER_MINUTE = 20.0
# A booked slot is when the request leaves, not when Telegram counts it; a little slack per
# chat keeps two requests to one chat from landing closer than its limit.
DEFAULT_CHAT_MARGIN = 0.05
# How far behind its even schedule the bulk sender may catch up (see RateLimiter._global_slot).
DEFAULT_CATCH_UP = 0.2
# The global budget: `rate` slots per this many seconds.
DEFAULT_WINDOW = 1.0
# Waiting for the answer of a request that is still out (see `_Lane.departure_delay`).
_ANSWER_POLL = 0.01
_GATE_POLL = 0.1  # waiting for `may_send` (a lease taken again after a long stall)
_PRUNE_AT = 2048  # chats remembered before past slots are forgotten


class Paused(Exception):
    """A bulk request about to leave while a pause Telegram asked for is on: not sent."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"paused for {seconds:.2f}s")
        self.seconds = seconds


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


class _Lane:
    """One global budget: evenly spaced slots, never more than `rate` in any `window`."""

    def __init__(self, rate: float, catch_up: float, window: float) -> None:
        self._catch_up = catch_up
        self._window = window
        self._schedule = float("-inf")  # the next slot of the evenly spaced schedule
        self._last = float("-inf")  # the latest slot booked
        self._recent: deque[float] = deque()
        # [left, answered] of the last `rate` requests (answered: +inf while still out)
        self._departed: deque[list[float]] = deque()
        self.replies_waiting = 0  # replies waiting to leave: bulk lets them go first
        self.set_rate(rate)

    def set_rate(self, rate: float) -> None:
        """A new rate from now on (the bot's rate shared among a new number of instances)."""
        self.rate = rate
        self._interval = self._window / rate
        self._recent = deque(self._recent, maxlen=max(1, int(rate + 1e-9)))
        self._departed = deque(self._departed, maxlen=self._recent.maxlen)

    def departure_delay(self, now: float) -> float:
        """Seconds until a request may really leave.

        Telegram counts a request when it arrives, somewhere between when it left and when
        its answer came; a process that stalls for a moment (a busy machine, the network)
        delays some arrivals and not others, and the even slots alone would then let `rate`
        + 1 arrive within a second: a 429 and a pause of a second for everyone. So a request
        leaves only once the answer to the one `rate` requests back is `window` old."""
        if len(self._departed) < (self._departed.maxlen or 1):
            return 0.0
        answered = self._departed[0][1]
        if answered == float("inf"):
            return _ANSWER_POLL  # still out: rare (an answer slower than the window)
        return max(0.0, answered + self._window - now)

    def depart(self, now: float) -> list[float]:
        entry = [now, float("inf")]
        self._departed.append(entry)
        return entry

    def slot(self, now: float, paused_until: float, *, reply: bool = False) -> tuple[float, float]:
        """(where the schedule stands, the earliest slot this budget allows).

        Slots follow an evenly spaced schedule. A sender that fell behind it by at most
        `catch_up` seconds (a busy event loop, a slow database) may catch up, at no more than
        twice the rate; later than that counts as idle, and the schedule starts afresh. A
        `reply` does not wait for the schedule: it takes the earliest slot not before the
        last one booked (a handler's message waiting a millisecond for an even spacing that
        no limit asks for costs the tap more than the message: docs/benchmarks.md §2
        ingest11), and still moves the schedule on, so bulk keeps its distance. In no window
        are there more slots than the rate."""
        base = self._schedule if now - self._schedule <= self._catch_up else now
        spaced = self._last if reply else max(base, self._last + self._interval / 2)
        free = max(now, spaced)
        slot = max(free, paused_until)
        if len(self._recent) == self._recent.maxlen:
            slot = max(slot, self._recent[0] + self._window)
        # A slot pushed later by a limit leaves nothing to catch up on.
        return (base if slot == free else slot), slot

    def book(self, base: float, slot: float) -> None:
        self._schedule = base + self._interval
        self._last = slot
        self._recent.append(slot)

    def pause_until(self, until: float) -> None:
        # A fresh start afterwards: no catching up on the time paused.
        self._schedule = max(self._schedule, until)


class RateLimiter:
    """Books send slots under a global rate and per-chat rates, for replies and bulk alike.

    One schedule for everything the bot sends: a reply books the earliest free slot at once;
    the bulk sender books only the slots of the next fraction of a second (see
    `bot.outbox.sender`), so replies go first and bulk takes whatever they leave. Paid
    broadcasts (`paid=True`) have their own budget of `paid_rate` (Telegram: up to 1,000/s)."""

    def __init__(
        self,
        rate: float = DEFAULT_SEND_RATE,
        *,
        headroom: float = 0.0,
        per_chat_rate: float = PRIVATE_PER_SECOND,
        group_per_minute: float = GROUP_PER_MINUTE,
        chat_margin: float = DEFAULT_CHAT_MARGIN,
        catch_up: float = DEFAULT_CATCH_UP,
        window: float = DEFAULT_WINDOW,
        paid_rate: float = PAID_BROADCAST_RATE,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if rate <= 0 or per_chat_rate <= 0 or group_per_minute <= 0 or paid_rate <= 0:
            raise ValueError("rates must be positive")
        if not 0 <= headroom < 1:
            raise ValueError("headroom must be in [0, 1)")
        self.headroom = headroom
        self._private_interval = 1 / per_chat_rate + chat_margin
        self._group_interval = max(60 / group_per_minute, 1 / per_chat_rate) + chat_margin
        catch_up = max(catch_up, 0.0)
        self._free = _Lane(rate * (1 - headroom), catch_up, window)
        self._paid = _Lane(paid_rate, catch_up, window)
        self.rate = rate
        self._clock = clock
        self._sleep = sleep
        self._paused_until = float("-inf")
        self._bulk_held_until = float("-inf")
        # Whether this process may send at all now (`bot.outbox.share.RateShare.may_send`).
        self.may_send: Callable[[], bool] = lambda: True
        self._next_chat: dict[int, float] = {}

    @property
    def bulk_rate(self) -> float:
        """Messages per second of the (free) schedule."""
        return self._free.rate

    @property
    def paid_rate(self) -> float:
        return self._paid.rate

    def set_rate(self, rate: float, paid_rate: float | None = None) -> None:
        """Change the bot's rate for this process (its share of MENTORBOT_SEND_RATE), and its
        share of the paid budget when given."""
        if rate <= 0 or (paid_rate is not None and paid_rate <= 0):
            raise ValueError("rate must be positive")
        self.rate = rate
        self._free.set_rate(rate * (1 - self.headroom))
        if paid_rate is not None:
            self._paid.set_rate(paid_rate)

    def lane_rate(self, paid: bool = False) -> float:
        return self._paid.rate if paid else self._free.rate

    def chat_interval(self, chat_id: int) -> float:
        """Seconds between two messages to this chat."""
        return self._group_interval if is_group(chat_id) else self._private_interval

    def global_delay(self, paid: bool = False) -> float:
        """Seconds until the next message may go to any chat."""
        now = self._clock()
        return self._lane(paid).slot(now, self._paused_until)[1] - now

    def _lane(self, paid: bool) -> _Lane:
        return self._paid if paid else self._free

    def hold_bulk(self, seconds: float) -> None:
        """No bulk send for `seconds` (replies go on): see `bot.outbox.share`."""
        self._bulk_held_until = max(self._bulk_held_until, self._clock() + seconds)

    def bulk_held_for(self) -> float:
        """Seconds left of a `hold_bulk` (0 when none)."""
        return max(0.0, self._bulk_held_until - self._clock())

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

    def reserve(self, chat_id: int, paid: bool = False, *, reply: bool = False) -> float:
        """Book the earliest slot for a message to `chat_id`; returns the seconds to wait.

        A `reply` takes the earliest global slot (`_Lane.slot`), even when its chat had a
        message less than its interval ago: Telegram allows a chat short bursts, and a
        handler's second message (or a student's quick tap) should not wait a second for it;
        should Telegram answer 429, the limiter waits that chat out. The chat's next slot
        moves all the same, so bulk sends keep their distance."""
        now = self._clock()
        lane = self._lane(paid)
        base, slot = lane.slot(now, self._paused_until, reply=reply)
        chat_slot = self._next_chat.get(chat_id, float("-inf"))
        if chat_slot > slot and not reply:
            base = slot = chat_slot
        lane.book(base, slot)
        self._next_chat[chat_id] = max(chat_slot, slot) + self.chat_interval(chat_id)
        if len(self._next_chat) > _PRUNE_AT:
            self._forget_before(now)
        return slot - now

    async def acquire(self, chat_id: int, paid: bool = False, *, reply: bool = False) -> float:
        """Book a slot and sleep until it; returns the seconds waited."""
        wait = self.reserve(chat_id, paid, reply=reply)
        if wait > 0:
            await self._sleep(wait)
        return wait

    @contextlib.asynccontextmanager
    async def departure(self, paid: bool = False, *, reply: bool = False) -> AsyncIterator[None]:
        """Around the request itself: wait until it may leave (`_Lane.departure_delay`), a
        `reply` before any bulk request waiting too, and note when its answer came. Raises
        `Paused` for a bulk request when a pause is on by then."""
        lane = self._lane(paid)
        while not self.may_send():
            await self._sleep(_GATE_POLL)
        lane.replies_waiting += reply
        try:
            while (wait := lane.departure_delay(self._clock())) > 0 or (
                lane.replies_waiting and not reply
            ):
                await self._sleep(wait or _ANSWER_POLL)
        finally:
            lane.replies_waiting -= reply
        # A 429 may have come back while this request waited to leave (its slot checked
        # before): bulk never goes into a known pause, however late the loop runs.
        if not reply and (left := self.paused_for()) > 0:
            raise Paused(left)
        entry = lane.depart(self._clock())
        try:
            yield
        finally:
            entry[1] = self._clock()

    async def wait_out_pause(self) -> None:
        """Sleep through a pause Telegram asked for, if one is on."""
        while (left := self.paused_for()) > 0:
            await self._sleep(left)

    def pause(self, seconds: float, chat_id: int | None = None) -> None:
        """Send nothing for `seconds` (to one chat, or to anyone): Telegram said retry_after."""
        until = self._clock() + seconds
        if chat_id is None:
            self._paused_until = max(self._paused_until, until)
            self._free.pause_until(until)
            self._paid.pause_until(until)
        else:
            self._next_chat[chat_id] = max(self._next_chat.get(chat_id, until), until)

    def _forget_before(self, now: float) -> None:
        # A chat whose slot has passed is free; dropping it keeps the map small.
        for chat_id in [c for c, slot in self._next_chat.items() if slot <= now]:
            del self._next_chat[chat_id]
