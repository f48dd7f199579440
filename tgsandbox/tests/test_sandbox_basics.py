"""Basic round trips through a real python-telegram-bot Bot: identity, messages, long polling."""

from __future__ import annotations

import asyncio
import time

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, MessageEntity, Update
from telegram.error import BadRequest, Conflict

from tgsandbox import SandboxServer
from tgsandbox.tests.sandbox_helpers import make_bot


async def test_get_me_answers_the_default_bot(api: SandboxServer, bot: Bot) -> None:
    me = await bot.get_me()
    assert me.username == "mentorbot_test_bot"
    assert me.is_bot is True
    assert me.id == int(api.token.split(":")[0])


async def test_send_message_is_recorded_with_parsed_html(api: SandboxServer, bot: Bot) -> None:
    user = api.add_user("Sanne", "de Vries", "sanne")
    sent = await bot.send_message(user.id, "<b>Hoi</b> Sanne &amp; co", parse_mode="HTML")

    assert sent.text == "Hoi Sanne & co"
    assert sent.entities == (MessageEntity("bold", 0, 3),)
    assert sent.chat.id == user.id and sent.chat.first_name == "Sanne"
    recorded = api.messages(user)
    assert [m.text for m in recorded] == ["Hoi Sanne & co"]
    assert recorded[0].raw_text == "<b>Hoi</b> Sanne &amp; co"
    assert recorded[0].message_id == sent.message_id


async def test_message_ids_count_per_chat(api: SandboxServer, bot: Bot) -> None:
    anna, bram = api.add_user("Anna"), api.add_user("Bram")
    first = await bot.send_message(anna.id, "1")
    await api.send_text(anna, "hallo")
    second = await bot.send_message(anna.id, "2")
    other = await bot.send_message(bram.id, "1")
    assert (first.message_id, second.message_id, other.message_id) == (1, 3, 1)
    assert anna.id != bram.id


async def test_unknown_chat_is_an_api_error_not_a_violation(api: SandboxServer, bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(424242, "hoi")
    assert api.violations == []


async def test_long_poll_wakes_as_soon_as_an_update_arrives(api: SandboxServer, bot: Bot) -> None:
    user = api.add_user("Lotte")
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=30, read_timeout=40))
    await api.wait_until(lambda: api.bot().poller is not None)
    update_id = await api.send_text(user, "/start")

    updates = await asyncio.wait_for(poll, timeout=2.0)
    assert time.monotonic() - started < 5
    assert [u.update_id for u in updates] == [update_id]
    message = updates[0].message
    assert message is not None and message.text == "/start"
    assert message.entities == (MessageEntity("bot_command", 0, 6),)
    assert message.from_user is not None and message.from_user.id == user.id


async def test_long_poll_without_updates_waits_for_its_timeout(bot: Bot) -> None:
    started = time.monotonic()
    updates = await bot.get_updates(timeout=1, read_timeout=5)
    assert updates == ()
    assert time.monotonic() - started >= 0.9


async def test_offset_confirms_and_limit_caps(api: SandboxServer, bot: Bot) -> None:
    user = api.add_user("Mo")
    ids = [await api.send_text(user, f"bericht {n}") for n in range(5)]

    first = await bot.get_updates(limit=2)
    assert [u.update_id for u in first] == ids[:2]
    again = await bot.get_updates(limit=2)
    assert [u.update_id for u in again] == ids[:2], "unconfirmed updates come again"
    rest = await bot.get_updates(offset=ids[1] + 1)
    assert [u.update_id for u in rest] == ids[2:]
    assert await bot.get_updates(offset=ids[-1] + 1, timeout=0) == ()


async def test_allowed_updates_filters_types(api: SandboxServer, bot: Bot) -> None:
    user = api.add_user("Noor")
    sent = await bot.send_message(user.id, "kies", reply_markup=_keyboard())
    await api.send_text(user, "tekst")
    await api.press_button(user, api.messages(user)[0], "ja")
    updates = await bot.get_updates(allowed_updates=[Update.CALLBACK_QUERY])
    assert [u.callback_query is not None for u in updates] == [True]
    assert updates[0].callback_query.message.message_id == sent.message_id  # type: ignore[union-attr]


async def test_a_second_poller_ends_the_first_with_conflict(api: SandboxServer, bot: Bot) -> None:
    """Two instances polling one token: Telegram ends the older long poll with 409."""
    first = asyncio.create_task(bot.get_updates(timeout=30, read_timeout=40))
    await api.wait_until(lambda: api.bot().poller is not None)
    async with make_bot(api) as second_instance:
        second = asyncio.create_task(second_instance.get_updates(timeout=0))
        with pytest.raises(Conflict, match="terminated by other getUpdates"):
            await asyncio.wait_for(first, timeout=2.0)
        assert await second == ()


async def test_ptb_convenience_arguments_are_sent_the_modern_way(
    api: SandboxServer, bot: Bot
) -> None:
    """PTB turns reply_to_message_id / disable_web_page_preview into reply_parameters /
    link_preview_options, which Bot API 10.1 knows; no violation expected."""
    user = api.add_user("Gert")
    first = await bot.send_message(user.id, "https://example.org", disable_web_page_preview=True)
    reply = await bot.send_message(user.id, "antwoord", reply_to_message_id=first.message_id)
    assert reply.reply_to_message is not None
    assert reply.reply_to_message.message_id == first.message_id
    assert api.requests[-1].params["reply_parameters"] == {"message_id": first.message_id}


async def test_two_bots_share_the_server_but_not_their_updates(api: SandboxServer) -> None:
    other_token = "7000000002:second-bot-token"
    api.add_bot(other_token, username="mentorbot_other_bot")
    user = api.add_user("Daan")
    async with make_bot(api) as first, make_bot(api, other_token) as second:
        assert (await second.get_me()).username == "mentorbot_other_bot"
        await api.send_text(user, "voor de tweede", token=other_token)
        assert await first.get_updates() == ()
        updates = await second.get_updates()
        assert [u.message.text for u in updates] == ["voor de tweede"]  # type: ignore[union-attr]
        await second.send_message(user.id, "van de tweede")
    assert api.messages(user) == []
    assert [m.text for m in api.messages(user, token=other_token)] == ["van de tweede"]


async def test_wait_for_message_times_out_with_context(api: SandboxServer, bot: Bot) -> None:
    user = api.add_user("Eva")
    await bot.send_message(user.id, "eerste")
    assert (await api.wait_for_message(user)).text == "eerste"
    with pytest.raises(TimeoutError, match="no matching message"):
        await api.wait_for_message(user, timeout=0.2)


async def test_wait_for_message_with_predicate_and_marker(api: SandboxServer, bot: Bot) -> None:
    user = api.add_user("Finn")
    await bot.send_message(user.id, "oud")
    marker = api.mark(user)
    waiter = asyncio.create_task(
        api.wait_for_message(user, lambda m: "2" in (m.text or ""), since=marker)
    )
    await bot.send_message(user.id, "nieuw 1")
    await bot.send_message(user.id, "nieuw 2")
    assert (await asyncio.wait_for(waiter, 2.0)).text == "nieuw 2"


def _keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("Ja", callback_data="ja"),
                InlineKeyboardButton("Nee", callback_data="nee"),
            ]
        ]
    )
