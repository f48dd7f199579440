"""A real PTB Application polling the sandbox: commands, buttons, media, edits, groups."""

from __future__ import annotations

import asyncio

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tgsandbox import SandboxServer
from tgsandbox.tests.sandbox_helpers import build_app, polling

Context = ContextTypes.DEFAULT_TYPE


async def _start(update: Update, context: Context) -> None:
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("Ja", callback_data="q1:yes"),
                InlineKeyboardButton("Nee", callback_data="q1:no"),
            ]
        ]
    )
    assert update.effective_chat is not None
    await context.bot.send_message(
        update.effective_chat.id, "Ging het goed?", reply_markup=keyboard
    )


async def _answer(update: Update, context: Context) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None
    await query.answer(f"Genoteerd: {query.data}")
    await query.edit_message_text(f"Je koos {query.data.split(':')[1]}")


async def test_button_press_reaches_the_callback_handler(api: SandboxServer) -> None:
    app = build_app(api)
    app.add_handler(CommandHandler("start", _start))
    app.add_handler(CallbackQueryHandler(_answer))
    user = api.add_user("Sanne")
    async with polling(app):
        await api.send_text(user, "/start")
        question = await api.wait_for_message(user)
        assert question.callback_data == ["q1:yes", "q1:no"]

        query_id = await api.press(user, question, "Nee")
        answer = await api.wait_for_callback_answer(query_id)
        assert answer.text == "Genoteerd: q1:no" and answer.show_alert is False
        await api.wait_until(lambda: question.edited)

    assert question.text == "Je koos no"
    assert question.reply_markup is None, "an edit without reply_markup removes the keyboard"
    assert question.history[0]["text"] == "Ging het goed?"
    assert answer.latency < 5


async def test_pressing_a_button_that_is_not_there_is_refused(api: SandboxServer, bot) -> None:  # type: ignore[no-untyped-def]
    user = api.add_user("Tim")
    await bot.send_message(user.id, "zonder knoppen")
    message = api.messages(user)[0]
    with pytest.raises(ValueError, match="no button"):
        await api.press_button(user, message, "q1:yes")
    forged = await api.press_button(user, message, "q9:forged", check=False)
    (update,) = await bot.get_updates()
    assert update.callback_query.id == forged and update.callback_query.data == "q9:forged"


async def test_user_messages_of_every_kind_reach_their_handlers(api: SandboxServer) -> None:
    seen: list[str] = []
    done = asyncio.Event()

    async def record(update: Update, context: Context) -> None:
        message = update.effective_message
        assert message is not None
        kinds = ("text", "sticker", "photo", "voice", "location", "document")
        seen.append(next(kind for kind in kinds if getattr(message, kind)))
        if len(seen) == len(kinds):
            done.set()

    app = build_app(api)
    app.add_handler(MessageHandler(filters.ALL, record))
    user = api.add_user("Uma")
    async with polling(app):
        await api.send_text(user, "hallo")
        await api.send_sticker(user)
        await api.send_photo(user, caption="mijn werk")
        await api.send_voice(user)
        await api.send_location(user)
        await api.send_document(user, "verslag.txt", b"inhoud")
        await asyncio.wait_for(done.wait(), 5)
    assert seen == ["text", "sticker", "photo", "voice", "location", "document"]


async def test_user_photo_can_be_downloaded(api: SandboxServer, bot) -> None:  # type: ignore[no-untyped-def]
    user = api.add_user("Vera")
    await api.send_photo(user, data=b"\x89PNG\r\n\x1a\n" + bytes(100))
    (update,) = await bot.get_updates()
    photo = update.message.photo[-1]
    file = await bot.get_file(photo.file_id)
    assert bytes(await file.download_as_bytearray()) == b"\x89PNG\r\n\x1a\n" + bytes(100)


async def test_edited_message_and_reply(api: SandboxServer, bot) -> None:  # type: ignore[no-untyped-def]
    user = api.add_user("Wout")
    sent = await bot.send_message(user.id, "Wat ging goed?")
    await api.send_text(user, "planning", reply_to=api.messages(user)[0])
    (first,) = await bot.get_updates()
    assert first.message.reply_to_message.message_id == sent.message_id
    await api.edit_text(user, first.message.message_id, "de planning")
    (edit,) = await bot.get_updates(offset=first.update_id + 1)
    assert edit.edited_message.text == "de planning"
    assert edit.edited_message.edit_date is not None


async def test_group_membership_and_commands_in_groups(api: SandboxServer) -> None:
    joined: list[int] = []
    commands: list[str] = []
    app = build_app(api)
    app.add_handler(
        MessageHandler(filters.StatusUpdate.NEW_CHAT_MEMBERS, lambda u, c: _joined(u, joined))
    )
    app.add_handler(CommandHandler("team", lambda u, c: _command(u, commands)))
    app.add_handler(ChatMemberHandler(lambda u, c: _noop(), ChatMemberHandler.MY_CHAT_MEMBER))
    mentor, student = api.add_user("Mentor"), api.add_user("Student")
    group = api.add_group("Mentoren 4B")
    async with polling(app):
        await api.add_bot_to_group(group, by=mentor)
        await api.add_member_to_group(student, group)
        await api.send_text(mentor, "/team@mentorbot_test_bot", chat=group)
        await api.wait_until(lambda: commands)
    assert joined == [api.bot().user.id, student.id]
    assert commands == [str(group.id)]
    assert group.id < 0 and group.members == {mentor.id, student.id}


async def _joined(update: Update, joined: list[int]) -> None:
    assert update.message is not None
    joined.extend(member.id for member in update.message.new_chat_members)


async def _command(update: Update, commands: list[str]) -> None:
    assert update.effective_chat is not None
    commands.append(str(update.effective_chat.id))


async def _noop() -> None:
    return None


async def test_blocking_sends_my_chat_member_kicked(api: SandboxServer, bot) -> None:  # type: ignore[no-untyped-def]
    user = api.add_user("Xander")
    await api.block(user)
    (update,) = await bot.get_updates()
    assert update.my_chat_member.new_chat_member.status == "kicked"
    assert update.my_chat_member.chat.id == user.id
