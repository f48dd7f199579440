"""One limiter for replies and the outbox, against the sandbox with Telegram's limits on.

The bot is an ExtBot with the project's `PriorityLimiter`, as the Application builds it; the
outbox sender shares its pacing. Timing assertions use the sandbox's own stamps, never sleeps."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import pytest
from telegram.ext import ExtBot
from telegram.request import HTTPXRequest

from bot.outbox.limiter import PriorityLimiter
from bot.outbox.pacing import RateLimiter
from bot.outbox.sender import OutboxSender
from storage.db import Database
from tests.outbox.helpers import draft, enqueue
from tgsandbox import SandboxServer


@pytest.fixture
async def limited(api: SandboxServer) -> AsyncIterator[ExtBot[PriorityLimiter]]:
    """An ExtBot paced by the project's limiter at Telegram's 30/s, as the Application's."""
    bot: ExtBot[PriorityLimiter] = ExtBot(
        api.token,
        base_url=f"{api.base_url}/bot",
        base_file_url=f"{api.base_url}/file/bot",
        request=HTTPXRequest(connection_pool_size=64),
        rate_limiter=PriorityLimiter(RateLimiter(30)),
    )
    async with bot:
        yield bot


def sends(api: SandboxServer, **params: object) -> list[dict[str, object]]:
    """Parameters of the accepted sendMessage requests (those matching `params`)."""
    return [
        r.params
        for r in api.requests
        if r.method == "sendMessage"
        and r.status == 200
        and all(r.params.get(k) == v for k, v in params.items())
    ]


async def test_replies_go_first_while_a_round_drains_at_the_whole_rate(
    db: Database, api: SandboxServer, limited: ExtBot[PriorityLimiter]
) -> None:
    api.set_rate_limits(global_per_second=30, per_chat_per_second=1, per_group_per_minute=20)
    people = [api.add_user(f"Student{n}") for n in range(150)]
    tappers = [api.add_user(f"Tapper{n}") for n in range(12)]
    await enqueue(db, [draft(n, chat_id=user.id) for n, user in enumerate(people)])
    outbox = OutboxSender(db, limited, poll_interval=0.2)
    assert outbox.pacer is limited.rate_limiter.pacer  # one pacing for both  # type: ignore[union-attr]
    outbox.start()
    try:
        await api.wait_until(lambda: len(api.stats.all_send_times) >= 10, timeout=10)
        latencies = []
        for user in tappers:  # replies sent straight from "handlers", through the bot
            started = time.monotonic()
            await limited.send_message(user.id, "Dank je!")
            latencies.append(time.monotonic() - started)
            await asyncio.sleep(0.25)  # spacing the replies, not a timing assertion
        await api.wait_until(lambda: len(sends(api)) >= 162, timeout=30)
    finally:
        await outbox.stop()
    assert api.stats.too_many_requests == 0
    assert sorted(latencies)[int(0.95 * (len(latencies) - 1))] < 1.0
    # No idle budget: the round used the whole rate, not 80 % of it. Between the first and the
    # last bulk send nothing but the pacing (30/s × 0.98) set the pace: a loaded machine can
    # only make it slower, and the bound leaves it room to.
    stamps = api.stats.all_send_times
    assert api.stats.max_sends_within(1.0) > 0.8 * 30 and max(stamps) - min(stamps) > 0


async def test_paid_broadcast_sends_rounds_on_their_own_budget(
    db: Database, api: SandboxServer, limited: ExtBot[PriorityLimiter]
) -> None:
    api.set_rate_limits(global_per_second=5, per_chat_per_second=1, paid_per_second=1000)
    people = [api.add_user(f"Student{n}") for n in range(60)]
    group = api.add_group("Mentoren")
    round_rows = [draft(n, chat_id=u.id, kind="round") for n, u in enumerate(people)]
    await enqueue(db, [*round_rows, draft(99, chat_id=group.id, kind="notice")])
    limited.rate_limiter.pacer.set_rate(5)  # type: ignore[union-attr]
    result = await OutboxSender(db, limited, paid_broadcast=True, poll_interval=0.2).drain()

    assert result.sent == 61 and api.stats.too_many_requests == 0
    paid = sends(api, allow_paid_broadcast=True)
    assert sorted(int(p["chat_id"]) for p in paid) == sorted(u.id for u in people)  # type: ignore[call-overload]
    [notice] = [p for p in sends(api) if int(p["chat_id"]) == group.id]  # type: ignore[call-overload]
    assert "allow_paid_broadcast" not in notice  # only the bulk kinds are paid for
    # More than the free limit of 5/s went out within a second, and none was refused.
    assert api.stats.max_sends_within(1.0) > 5


async def test_at_most_two_bulk_requests_out_while_a_reply_is_made() -> None:
    """Replies first in fact: beside a reply's request only two bulk requests may be out (during
    a paid broadcast it would otherwise stand behind every bulk request out)."""
    limiter = PriorityLimiter(RateLimiter(30))
    answered, out = asyncio.Event(), asyncio.Event()
    order: list[str] = []

    def bulk_request(name: str) -> Callable[[], Coroutine[Any, Any, bool]]:
        async def request() -> bool:
            order.append(f"{name} out")
            await answered.wait()
            return True

        return request

    async def reply_request() -> bool:
        order.append("reply out")
        out.set()
        await answered.wait()
        order.append("reply answered")
        return True

    def bulk(name: str, chat_id: int) -> asyncio.Task[Any]:
        return asyncio.create_task(
            limiter.process_request(
                bulk_request(name), (), {}, "sendMessage", {"chat_id": chat_id}, "paid"
            )
        )

    first, second = bulk("bulk 1", 1), bulk("bulk 2", 2)
    reply = asyncio.create_task(
        limiter.process_request(reply_request, (), {}, "answerCallbackQuery", {}, None)
    )
    await out.wait()
    third = bulk("bulk 3", 3)
    for _ in range(50):  # every chance to leave
        await asyncio.sleep(0)
    assert sorted(order) == ["bulk 1 out", "bulk 2 out", "reply out"]
    answered.set()
    assert all(await asyncio.gather(first, second, reply, third))
    assert "bulk 3 out" in order  # once the reply was answered
