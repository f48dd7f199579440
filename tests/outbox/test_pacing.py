"""The rate limiter with a fake clock: exact waits, no real time passes."""

from __future__ import annotations

import asyncio
import random
from itertools import pairwise

import pytest

from bot.outbox.pacing import Paused, RateLimiter, is_group, send_rate_from_env


class FakeClock:
    """A monotonic clock that moves only when a sleep asks it to."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def limiter(clock: FakeClock, **kwargs: float) -> RateLimiter:
    kwargs.setdefault("window", 1.0)  # exact seconds here; the margin has its own test
    return RateLimiter(clock=clock, sleep=clock.sleep, **kwargs)


async def test_hundred_bulk_sends_take_at_least_the_computed_time() -> None:
    clock = FakeClock()
    pacer = limiter(clock, rate=30, headroom=0.2)
    assert pacer.bulk_rate == pytest.approx(24.0)
    start = clock.now
    stamps = []
    for n in range(100):
        await pacer.acquire(chat_id=n + 1)  # 100 different chats: only the global limit
        stamps.append(clock.now)
    elapsed = clock.now - start
    assert elapsed >= 99 / 24 - 1e-9
    assert elapsed == pytest.approx(99 / 24)  # and not slower than it needs to be
    gaps = [b - a for a, b in pairwise(stamps)]
    assert min(gaps) >= 1 / 24 - 1e-9
    # Within any one second at most 24 bulk sends: 6 of 30 stay free for replies.
    assert max(sum(1 for t in stamps if s <= t < s + 1 - 1e-6) for s in stamps) <= 24


async def test_private_chat_gets_one_message_per_second() -> None:
    clock = FakeClock()
    pacer = limiter(clock, rate=30, chat_margin=0.0)
    stamps = []
    for _ in range(5):
        await pacer.acquire(chat_id=42)
        stamps.append(clock.now)
    assert [round(b - a, 9) for a, b in pairwise(stamps)] == [1.0] * 4


async def test_chat_margin_adds_slack_between_messages_to_one_chat() -> None:
    clock = FakeClock()
    pacer = limiter(clock, chat_margin=0.05)
    await pacer.acquire(7)
    assert pacer.chat_delay(7) == pytest.approx(1.05)


async def test_group_gets_twenty_messages_per_minute() -> None:
    clock = FakeClock()
    pacer = limiter(clock, rate=30, chat_margin=0.0)
    group = -100123
    assert is_group(group) and not is_group(5)
    start = clock.now
    stamps = []
    for _ in range(21):
        await pacer.acquire(group)
        stamps.append(clock.now)
    # 20 per minute: the 21st message is a full minute after the first.
    assert stamps[-1] - start == pytest.approx(60.0)
    assert max(sum(1 for t in stamps if s <= t < s + 60) for s in stamps) == 20


async def test_a_busy_chat_does_not_hold_back_other_chats() -> None:
    clock = FakeClock()
    pacer = limiter(clock, rate=10, headroom=0.0, chat_margin=0.0)
    assert pacer.reserve(1) == 0
    assert pacer.busy_chats() == {1}
    # Chat 1 waits a second; chat 2 only waits for the global slot (0.1 s).
    assert pacer.delay(1) == pytest.approx(1.0)
    assert pacer.delay(2) == pytest.approx(0.1)
    assert pacer.next_chat_free_in() == pytest.approx(1.0)
    clock.now += 1.0
    assert pacer.busy_chats() == set() and pacer.next_chat_free_in() is None


async def test_concurrent_acquirers_are_spaced_without_polling() -> None:
    clock = FakeClock()
    slept: list[float] = []

    async def record(seconds: float) -> None:
        slept.append(seconds)  # all ten book their slot at the same instant

    pacer = RateLimiter(rate=20, headroom=0.5, window=1.0, clock=clock, sleep=record)  # 10/s
    waits = await asyncio.gather(*(pacer.acquire(chat) for chat in range(1, 11)))
    assert waits == pytest.approx([n / 10 for n in range(10)])
    assert slept == pytest.approx([n / 10 for n in range(1, 10)])  # one sleep each, no polling


async def test_replies_leave_at_once_within_the_rate_and_bulk_keeps_its_distance() -> None:
    """Sixteen handlers replying in the same instant (the inbox's concurrency) wait for
    nothing while the window has room; the window still holds no more than the rate, and a
    bulk send after them waits for the schedule the replies moved on."""
    clock = FakeClock()
    pacer = limiter(clock, rate=10, headroom=0.0)
    waits = [pacer.reserve(chat_id=n + 1, reply=True) for n in range(16)]
    assert waits[:10] == [0.0] * 10  # the first ten at once: nobody waits a spacing
    assert waits[10:] == pytest.approx([1.0] * 6)  # then a window after the first ten
    assert pacer.reserve(chat_id=99) == pytest.approx(1.6)  # bulk: after 16 slots at 0.1 s


async def test_pause_delays_everyone_or_one_chat() -> None:
    clock = FakeClock()
    pacer = limiter(clock, rate=30)
    pacer.pause(3.0)
    assert pacer.delay(5) == pytest.approx(3.0)
    clock.now += 3.0
    pacer.pause(2.0, chat_id=5)
    assert pacer.delay(5) == pytest.approx(2.0) and pacer.delay(6) == 0.0


async def test_a_late_sender_catches_up_at_twice_the_rate_then_keeps_the_schedule() -> None:
    clock = FakeClock()
    pacer = limiter(clock, rate=10, headroom=0.0, catch_up=0.2)  # one slot per 0.1 s
    stamps = []
    for n in range(12):
        await pacer.acquire(chat_id=n + 1)
        stamps.append(round(clock.now - 1000.0, 6))
        if n == 3:
            clock.now += 0.15  # the event loop was busy for 0.15 s
    # Slot 4 (due at 0.4) goes at 0.45, then every 0.05 s until back on the schedule.
    assert stamps == [0.0, 0.1, 0.2, 0.3, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1]


async def test_an_idle_sender_gets_no_burst_and_no_second_exceeds_the_bulk_rate() -> None:
    clock = FakeClock()
    pacer = limiter(clock, rate=10, headroom=0.0, catch_up=0.2)
    await pacer.acquire(1)
    clock.now += 5.0  # idle: nothing to make up for
    first = clock.now
    await pacer.acquire(2)
    await pacer.acquire(3)
    assert clock.now - first == pytest.approx(0.1)
    # Callers late by random amounts: catching up never packs a second beyond 10.
    rng = random.Random(7)
    stamps = []
    for n in range(300):
        await pacer.acquire(n + 10)
        stamps.append(clock.now)
        clock.now += rng.uniform(0, 0.2)
    assert max(sum(1 for t in stamps if s <= t < s + 1 - 1e-9) for s in stamps) <= 10
    assert min(b - a for a, b in pairwise(stamps)) >= 0.05 - 1e-9


async def test_no_catching_up_after_a_pause() -> None:
    clock = FakeClock()
    pacer = limiter(clock, rate=10, headroom=0.0, catch_up=0.5)
    await pacer.acquire(1)
    pacer.pause(1.0)
    start = clock.now
    stamps = []
    for n in range(3):
        await pacer.acquire(n + 2)
        stamps.append(round(clock.now - start, 6))
    assert stamps == [1.0, 1.1, 1.2]


def test_bad_settings_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError):
        RateLimiter(rate=0)
    with pytest.raises(ValueError):
        RateLimiter(headroom=1.0)
    monkeypatch.setenv("MENTORBOT_SEND_RATE", "12.5")
    assert send_rate_from_env() == 12.5
    monkeypatch.delenv("MENTORBOT_SEND_RATE")
    assert send_rate_from_env() == 30.0


async def test_a_request_leaves_only_a_window_after_the_answer_rate_requests_back() -> None:
    clock = FakeClock()
    pacer = limiter(clock, rate=2)
    left = []
    for _ in range(3):
        async with pacer.departure():
            left.append(clock.now)
            clock.now += 0.3  # the request is out for 0.3 s: Telegram counted it meanwhile
    # Two per second, but counted from the first one's answer, not from when it left: a
    # request that was late to arrive cannot make three arrive within one second.
    assert [round(t - left[0], 6) for t in left] == [0.0, 0.3, 1.3]


async def test_a_new_share_of_the_rate_applies_to_the_next_slot() -> None:
    clock = FakeClock()
    pacer = limiter(clock, rate=30)
    await pacer.acquire(1)
    pacer.set_rate(10)  # three instances now share 30/s
    assert pacer.rate == 10 and pacer.bulk_rate == 10
    stamps = []
    for chat in range(2, 6):
        await pacer.acquire(chat)
        stamps.append(clock.now)
    assert [b - a for a, b in pairwise(stamps)][1:] == pytest.approx([0.1, 0.1])
    with pytest.raises(ValueError):
        pacer.set_rate(0)


async def test_paid_broadcasts_have_their_own_budget_and_keep_the_chat_limit() -> None:
    clock = FakeClock()
    pacer = limiter(clock, rate=30, paid_rate=1000)
    start = clock.now
    for n in range(1000):
        await pacer.acquire(chat_id=n + 1, paid=True)
    assert clock.now - start == pytest.approx(999 / 1000)  # 1,000/s, not 30/s
    # Replies were not starved by the paid broadcast: their budget is untouched.
    assert pacer.global_delay() == 0.0
    assert pacer.chat_delay(1000) > 0.9  # one message a second per chat holds for paid too


async def test_a_reply_leaves_before_a_bulk_request_that_waited_longer() -> None:
    """Both wait for the answer a window back (the departure rule); the reply goes first."""
    now = [0.0]

    async def spin(seconds: float) -> None:
        await asyncio.sleep(0)  # time moves only when the test moves it

    pacer = RateLimiter(rate=2, window=1.0, clock=lambda: now[0], sleep=spin)
    for _ in range(2):
        async with pacer.departure():
            now[0] += 0.15  # answered at 0.15 and 0.3: the next may leave at 1.15
    order: list[str] = []

    async def send(name: str, reply: bool) -> None:
        async with pacer.departure(reply=reply):
            order.append(name)

    bulk = asyncio.create_task(send("bulk", reply=False))
    await asyncio.sleep(0)  # the bulk request waits first
    reply = asyncio.create_task(send("reply", reply=True))
    for _ in range(5):
        await asyncio.sleep(0)
    assert order == []
    now[0] = 1.2
    for _ in range(5):
        await asyncio.sleep(0)
    assert order == ["reply"]
    now[0] = 3.0
    await asyncio.gather(bulk, reply)
    assert order == ["reply", "bulk"]


async def test_a_bulk_request_is_not_sent_into_a_pause_that_began_while_it_waited() -> None:
    """Its slot was checked before the 429 came back: it still does not leave (a reply does,
    and handles the 429 itself)."""
    now = [0.0]

    async def spin(seconds: float) -> None:
        await asyncio.sleep(0)  # time moves only when the test moves it

    pacer = RateLimiter(rate=1, window=1.0, clock=lambda: now[0], sleep=spin)
    sent: list[str] = []

    async def send(name: str, reply: bool) -> None:
        async with pacer.departure(reply=reply):
            sent.append(name)

    async with pacer.departure():  # out, its answer not in yet: the next one waits
        bulk = asyncio.create_task(send("bulk", reply=False))
        for _ in range(5):
            await asyncio.sleep(0)
        pacer.pause(8.0)  # the answer is a 429
    now[0] = 1.5
    with pytest.raises(Paused) as paused:
        await bulk
    assert paused.value.seconds == pytest.approx(6.5) and sent == []
    await send("reply", reply=True)
    assert sent == ["reply"]
