"""Updates run side by side across users, one at a time per user."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from telegram import Chat, Message, Update, User

from bot.runtime.updates import PerUserUpdateProcessor


def update_from(user_id: int, update_id: int) -> Update:
    user = User(user_id, "U", is_bot=False)
    chat = Chat(user_id, "private")
    message = Message(update_id, datetime.now(UTC), chat, from_user=user, text="x")
    return Update(update_id, message=message)


async def test_same_user_in_order_other_users_alongside() -> None:
    processor = PerUserUpdateProcessor(8)
    running: dict[int, int] = {}
    peak_same, peak_all, log = [0], [0], []
    gate = asyncio.Event()

    async def handle(user_id: int, update_id: int) -> None:
        running[user_id] = running.get(user_id, 0) + 1
        peak_same[0] = max(peak_same[0], running[user_id])
        peak_all[0] = max(peak_all[0], sum(running.values()))
        await gate.wait()
        log.append((user_id, update_id))
        running[user_id] -= 1

    tasks = [
        asyncio.create_task(processor.process_update(update_from(u, i), handle(u, i)))
        for i, u in enumerate([1, 1, 1, 2, 3])
    ]
    await asyncio.sleep(0)  # let them start: this is ordering, not timing
    for _ in range(10):
        await asyncio.sleep(0)
    gate.set()
    await asyncio.gather(*tasks)
    assert peak_same[0] == 1  # never two updates of one user at once
    assert peak_all[0] == 3  # users 1, 2 and 3 side by side
    assert [i for u, i in log if u == 1] == [0, 1, 2]  # user 1's updates in arrival order


def test_the_flood_limit_comes_from_the_settings() -> None:
    from pydantic import SecretStr

    from bot.app.application import build_application
    from bot.runtime.config import Settings

    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        TELEGRAM_BOT_TOKEN=SecretStr("1:a"),
        MENTORBOT_FLOOD_BURST=40,
        MENTORBOT_FLOOD_PER_SECOND=3,
    )
    application = build_application(settings)
    [guard] = application.handlers[-2]
    limiter = guard.callback.limiter  # type: ignore[attr-defined]
    assert (limiter.burst, limiter.per_second) == (40, 3.0)
