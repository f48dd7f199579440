"""The bot's HTTP client over aiohttp (bot.outbox.transport): what the sandbox receives, and
what a slow or absent server means for a message (sent maybe, or certainly not)."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import NetworkError, TimedOut

from bot.outbox.pacing import Outcome, classify
from bot.outbox.transport import AiohttpRequest
from tgsandbox import SandboxServer


def _bot(base_url: str, token: str, request: AiohttpRequest) -> Bot:
    return Bot(token, base_url=f"{base_url}/bot", base_file_url=f"{base_url}/file/bot",
               request=request)  # fmt: skip


@pytest.fixture
async def quick(api: SandboxServer) -> AsyncIterator[Bot]:
    """A bot whose requests give up after a fifth of a second."""
    async with _bot(api.base_url, api.token, AiohttpRequest(4, read_timeout=0.2)) as bot:
        yield bot


async def test_a_message_with_a_keyboard_arrives_as_sent(api: SandboxServer, tg: Bot) -> None:
    user = api.add_user("Sanne")
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Ja ✅", callback_data="t:1")]])
    sent = await tg.send_message(user.id, "Hoe ging het? <b>Week 5</b>", parse_mode="HTML",
                                 reply_markup=markup)  # fmt: skip
    (message,) = api.messages(user.id)
    assert message.text == "Hoe ging het? Week 5" and sent.message_id == message.message_id
    assert message.buttons() == [{"text": "Ja ✅", "callback_data": "t:1"}]


async def test_a_slow_answer_is_a_timeout_that_may_have_delivered(
    api: SandboxServer, quick: Bot
) -> None:
    user = api.add_user("Sanne")
    api.faults.delay("sendMessage", 1.0, count=1)
    with pytest.raises(TimedOut) as caught:
        await quick.send_message(user.id, "hallo")
    assert classify(caught.value) == Outcome("retry", "timeout", maybe_delivered=True)


async def test_no_server_is_a_network_error_before_anything_was_sent() -> None:
    with socket.socket() as free:  # a port nobody listens on
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    request = AiohttpRequest(2)
    await request.initialize()
    try:
        with pytest.raises(NetworkError) as caught:
            await request.post(f"http://127.0.0.1:{port}/bot1:x/getMe")
    finally:
        await request.shutdown()
    assert classify(caught.value) == Outcome("retry", "network", maybe_delivered=False)
