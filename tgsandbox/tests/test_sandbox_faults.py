"""Injected faults and rate limits, as python-telegram-bot sees them."""

from __future__ import annotations

import asyncio

import pytest
from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.request import HTTPXRequest

from tgsandbox import SandboxServer
from tgsandbox.tests.sandbox_helpers import make_bot, retry_seconds

# PTB 22 itself reads RetryAfter.retry_after in its constructor, which warns (int → timedelta).
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


async def test_429_with_retry_after(api: SandboxServer, bot: Bot) -> None:
    user = api.add_user("Anna")
    api.faults.fail_next("sendMessage", 429, retry_after=7)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(user.id, "eerste")
    assert retry_seconds(caught.value) == 7
    await bot.send_message(user.id, "tweede")
    assert [m.text for m in api.messages(user)] == ["tweede"]
    assert api.stats.errors[429] == 1 and api.stats.calls["sendMessage"] == 2


async def test_blocked_user_answers_403(api: SandboxServer, bot: Bot) -> None:
    user, other = api.add_user("Bram"), api.add_user("Cas")
    await api.block(user)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(user.id, "hoi")
    await bot.send_message(other.id, "hoi")
    await api.unblock(user)
    await bot.send_message(user.id, "weer welkom")
    assert [m.text for m in api.messages(user)] == ["weer welkom"]


@pytest.mark.parametrize("status", [500, 502])
async def test_server_errors_are_network_errors(api: SandboxServer, bot: Bot, status: int) -> None:
    user = api.add_user("Dewi")
    api.faults.fail_next("sendMessage", status, count=2)
    for _ in range(2):
        with pytest.raises(NetworkError) as caught:
            await bot.send_message(user.id, "poging")
        assert not isinstance(caught.value, (BadRequest, Forbidden))
    await bot.send_message(user.id, "gelukt")
    assert [m.text for m in api.messages(user)] == ["gelukt"]


async def test_fault_for_one_chat_only(api: SandboxServer, bot: Bot) -> None:
    user, other = api.add_user("Eva"), api.add_user("Finn")
    api.faults.fail_next("sendMessage", 400, chat_id=user.id)
    await bot.send_message(other.id, "niet geraakt")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(user.id, "geraakt")


async def test_executed_fault_stores_the_message_but_answers_an_error(
    api: SandboxServer, bot: Bot
) -> None:
    """The in-flight ambiguity (docs/operations.md): Telegram sent it, the bot saw an error."""
    user = api.add_user("Gijs")
    api.faults.fail_next("sendMessage", 502, executed=True)
    with pytest.raises(NetworkError):
        await bot.send_message(user.id, "misschien verstuurd")
    assert [m.text for m in api.messages(user)] == ["misschien verstuurd"]


async def test_slow_answer_times_out_but_still_happens(api: SandboxServer) -> None:
    user = api.add_user("Hanna")
    api.faults.delay("sendMessage", 0.5, count=1)
    request = HTTPXRequest(read_timeout=0.1)
    async with Bot(api.token, base_url=f"{api.base_url}/bot", request=request) as slow_bot:
        with pytest.raises(TimedOut):
            await slow_bot.send_message(user.id, "traag")
    message = await api.wait_for_message(user, timeout=3)
    assert message.text == "traag"


async def test_per_chat_rate_limit(api: SandboxServer, bot: Bot) -> None:
    user, other = api.add_user("Ilse"), api.add_user("Jens")
    api.set_rate_limits(global_per_second=30, per_chat_per_second=1, per_group_per_minute=20)
    await bot.send_message(user.id, "1")
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(user.id, "2")
    assert retry_seconds(caught.value) == 1
    await bot.send_message(other.id, "andere chat mag wel")
    assert api.stats.rate_limited == 1
    assert api.stats.max_sends_within(1.0, user.id) == 1
    assert len(api.stats.send_times[user.id]) == 1


async def test_global_rate_limit(api: SandboxServer, bot: Bot) -> None:
    users = [api.add_user(f"Leerling {n}") for n in range(4)]
    api.set_rate_limits(global_per_second=3, per_chat_per_second=None, per_group_per_minute=None)
    for user in users[:3]:
        await bot.send_message(user.id, "ronde")
    with pytest.raises(RetryAfter):
        await bot.send_message(users[3].id, "ronde")
    assert api.stats.rate_limited == 1
    assert api.stats.max_sends_within(1.0) == 3


async def test_paid_broadcasts_have_their_own_global_limit_but_keep_the_chat_limit(
    api: SandboxServer, bot: Bot
) -> None:
    users = [api.add_user(f"Leerling {n}") for n in range(6)]
    api.set_rate_limits(global_per_second=2, per_chat_per_second=1, paid_per_second=3)
    for user in users[:2]:
        await bot.send_message(user.id, "gratis")
    # The free limit is used up; paid broadcasts count against their own.
    for user in users[2:5]:
        await bot.send_message(user.id, "betaald", allow_paid_broadcast=True)
    with pytest.raises(RetryAfter):
        await bot.send_message(users[5].id, "betaald", allow_paid_broadcast=True)
    with pytest.raises(RetryAfter):  # one message a second per chat, paid or not
        await bot.send_message(users[0].id, "nog een", allow_paid_broadcast=True)
    assert api.stats.rate_limited == 2 and api.stats.max_sends_within(1.0) == 5
    assert api.violations == []  # the parameter is in the Bot API spec


async def test_group_rate_limit_is_per_minute(api: SandboxServer, bot: Bot) -> None:
    group = api.add_group("Mentoren")
    api.set_rate_limits(global_per_second=None, per_chat_per_second=None, per_group_per_minute=2)
    await bot.send_message(group.id, "1")
    await bot.send_message(group.id, "2")
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(group.id, "3")
    assert 55 <= retry_seconds(caught.value) <= 60


async def test_rate_limits_are_off_by_default(api: SandboxServer, bot: Bot) -> None:
    user = api.add_user("Kim")
    await asyncio.gather(*(bot.send_message(user.id, str(n)) for n in range(5)))
    assert len(api.messages(user)) == 5 and api.stats.rate_limited == 0


async def test_chat_actions_and_callback_answers_are_not_counted(api: SandboxServer) -> None:
    user = api.add_user("Lars")
    api.set_rate_limits(per_chat_per_second=1)
    async with make_bot(api) as bot:
        await bot.send_chat_action(user.id, "typing")
        await bot.send_message(user.id, "na het typen")
    assert api.bot().chat_actions == [(user.id, "typing")]
