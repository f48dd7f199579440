"""A whole class scanning its QR sheet at once: every student is answered, none in vain.

The real Application against the sandbox with Telegram's limits switched on (30 messages/s per
bot): the bot's one limiter paces the replies, and a reply that meets a 429 all the same waits
`retry_after` and goes out — the handler never fails and the student never hears nothing."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.outbox.limiter import PriorityLimiter
from tests.conftest import make_harness
from tests.harness import Harness
from tgsandbox import SandboxUser

CONSENT = "Ga je akkoord?"


def consented(h: Harness, users: list[SandboxUser]) -> int:
    """How many of `users` have the consent question."""
    return sum(1 for user in users if any(CONSENT in m.text for m in h.api.messages(user)))


async def test_two_hundred_joins_in_one_second_all_get_the_consent_question(
    h: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    h.api.set_rate_limits(global_per_second=30, per_chat_per_second=1, per_group_per_minute=20)
    cohort_id = await h.cohort()
    code = await h.code(cohort_id, single_use=False)
    students = [h.api.add_user(f"Student{n}") for n in range(200)]
    with caplog.at_level(logging.WARNING):
        await asyncio.gather(*(h.api.send_text(user, f"/start {code}") for user in students))
        # Generous: 200 replies at 30/s take about 7 s; a loaded machine may need much more.
        await h.api.wait_until(lambda: consented(h, students) == 200, timeout=180)

    for user in students:
        [message] = h.api.messages(user)  # exactly one message each: no error text, no repeat
        assert CONSENT in message.text
    assert "handler failed" not in caplog.text


async def test_a_reply_that_meets_a_429_waits_and_goes_out(
    h: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    cohort_id = await h.cohort()
    code = await h.code(cohort_id, single_use=False)
    sanne = h.api.add_user("Sanne")
    h.api.faults.fail_next("sendMessage", 429, retry_after=1, chat_id=sanne.id)
    with caplog.at_level(logging.WARNING):
        consent = await h.say(sanne, f"/start {code}")
    assert CONSENT in consent.text
    assert h.api.stats.too_many_requests == 1 and len(h.api.messages(sanne)) == 1
    limiter = h.app.bot.rate_limiter
    assert isinstance(limiter, PriorityLimiter) and limiter.replies_retried == 1
    assert "handler failed" not in caplog.text


async def test_paid_broadcast_carries_the_round_and_the_old_headroom_is_ignored(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = {"MENTORBOT_PAID_BROADCAST": True, "MENTORBOT_SEND_HEADROOM": 0.2}
    with caplog.at_level(logging.WARNING):
        async with make_harness(database_url, **settings) as h:
            cohort_id = await h.cohort()
            students = [h.api.add_user(f"Student{n}") for n in range(5)]
            for user in students:
                await h.join(user, await h.code(cohort_id))
            assert (await h.state.live().scheduler.push(cohort_id, "expectations", week=1)).created
            for user in students:
                await h.api.wait_for_message(user, lambda m: "Week 1" in (m.text or ""), timeout=20)
            sends = [r.params for r in h.api.requests if r.method == "sendMessage"]
    paid = [p for p in sends if p.get("allow_paid_broadcast")]
    # The round went out as a paid broadcast; the replies of joining did not.
    assert sorted(int(p["chat_id"]) for p in paid) == sorted(u.id for u in students)
    assert all("Week 1" in str(p["text"]) for p in paid) and len(sends) > len(paid)
    assert "MENTORBOT_SEND_HEADROOM is deprecated and ignored" in caplog.text
