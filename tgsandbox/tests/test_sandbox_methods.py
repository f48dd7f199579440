"""Files, commands, edits, deletes and chats, through python-telegram-bot."""

from __future__ import annotations

import subprocess
import sys

import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReplyKeyboardMarkup,
)
from telegram.error import BadRequest

from tgsandbox import SandboxServer
from tgsandbox.updates import TINY_PNG


async def test_document_upload_is_stored_and_downloadable(api: SandboxServer, bot: Bot) -> None:
    user = api.add_user("Anna")
    sent = await bot.send_document(
        user.id,
        b"%PDF-1.4 rapport",
        filename="rapport.pdf",
        caption="<i>Week 3</i>",
        parse_mode="HTML",
    )
    (message,) = api.messages(user)
    assert message.kind == "document" and message.caption == "Week 3"
    assert message.document is not None
    assert (message.document.filename, message.document.data) == (
        "rapport.pdf",
        b"%PDF-1.4 rapport",
    )
    assert sent.document is not None and sent.document.file_name == "rapport.pdf"
    file = await bot.get_file(sent.document.file_id)
    assert bytes(await file.download_as_bytearray()) == b"%PDF-1.4 rapport"
    again = await bot.send_document(user.id, sent.document.file_id)
    assert again.document is not None and again.document.file_id == sent.document.file_id


async def test_photo_upload_keeps_bytes_and_size(api: SandboxServer, bot: Bot) -> None:
    group = api.add_group("Mentoren")
    sent = await bot.send_photo(group.id, TINY_PNG, filename="grafiek.png")
    (message,) = api.messages(group)
    assert message.photo is not None and message.photo.data == TINY_PNG
    assert message.photo.filename == "grafiek.png"
    assert (sent.photo[-1].width, sent.photo[-1].height) == (1, 1)


async def test_commands_per_scope_and_language(api: SandboxServer, bot: Bot) -> None:
    user = api.add_user("Bram")
    nl = [BotCommand("start", "Beginnen"), BotCommand("help", "Hulp")]
    en = [BotCommand("start", "Start")]
    await bot.set_my_commands(nl, language_code="nl")
    await bot.set_my_commands(en, scope=BotCommandScopeChat(user.id))
    assert await bot.get_my_commands(language_code="nl") == tuple(nl)
    assert await bot.get_my_commands(scope=BotCommandScopeChat(user.id)) == tuple(en)
    assert await bot.get_my_commands() == ()
    assert await bot.get_my_commands(scope=BotCommandScopeAllGroupChats()) == ()
    await bot.delete_my_commands(language_code="nl")
    assert await bot.get_my_commands(language_code="nl") == ()


async def test_edit_keyboard_and_not_modified(api: SandboxServer, bot: Bot) -> None:
    user = api.add_user("Cas")
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Ok", callback_data="ok")]])
    sent = await bot.send_message(user.id, "Vraag", reply_markup=keyboard)
    with pytest.raises(BadRequest, match=r"(?i)not modified"):
        await bot.edit_message_text("Vraag", user.id, sent.message_id, reply_markup=keyboard)
    await bot.edit_message_reply_markup(user.id, sent.message_id, reply_markup=None)
    (message,) = api.messages(user)
    assert message.reply_markup is None and message.edited
    assert message.history[0]["reply_markup"] == keyboard.to_dict()
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", user.id, 999)


async def test_delete_message(api: SandboxServer, bot: Bot) -> None:
    user = api.add_user("Dewi")
    sent = await bot.send_message(user.id, "weg ermee")
    assert await bot.delete_message(user.id, sent.message_id)
    assert api.messages(user)[0].deleted
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(user.id, sent.message_id)


async def test_callback_answer_once_only(api: SandboxServer, bot: Bot) -> None:
    user = api.add_user("Eva")
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Ok", callback_data="ok")]])
    await bot.send_message(user.id, "Vraag", reply_markup=keyboard)
    query_id = await api.press_button(user, api.messages(user)[0], "ok")
    assert await bot.answer_callback_query(query_id, "Dank", show_alert=True)
    assert api.answered_callbacks[query_id].show_alert is True
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(query_id)


async def test_get_chat_and_member(api: SandboxServer, bot: Bot) -> None:
    user, outsider = api.add_user("Finn", username="finn"), api.add_user("Gijs")
    group = api.add_group("Klas 4B")
    await api.add_member_to_group(user, group)
    chat = await bot.get_chat(group.id)
    assert chat.title == "Klas 4B" and chat.type == "supergroup"
    private = await bot.get_chat(user.id)
    assert private.username == "finn"
    assert (await bot.get_chat_member(group.id, user.id)).status == "member"
    assert (await bot.get_chat_member(group.id, outsider.id)).status == "left"


async def test_reply_keyboard_is_recorded_but_not_echoed(api: SandboxServer, bot: Bot) -> None:
    user = api.add_user("Hanna")
    sent = await bot.send_message(user.id, "Kies", reply_markup=ReplyKeyboardMarkup([["1", "2"]]))
    assert sent.reply_markup is None
    assert api.messages(user)[0].reply_markup == {"keyboard": [[{"text": "1"}, {"text": "2"}]]}


async def test_other_spec_methods_are_accepted_and_recorded(api: SandboxServer, bot: Bot) -> None:
    group = api.add_group("Mentoren")
    assert await bot.set_chat_description(group.id, "Het mentorteam")
    sticker = await bot.send_sticker(group.id, "CAACAgIAAxkBAAEBsticker")
    assert sticker.chat.id == group.id
    methods = [r.method for r in api.requests]
    assert "setChatDescription" in methods and api.messages(group)[0].kind == "sendSticker"


def test_module_runs_standalone() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "tgsandbox", "--port", "0"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().startswith("http://127.0.0.1:")
    finally:
        process.terminate()
        process.wait(timeout=10)
