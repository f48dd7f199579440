"""The loop in Telegram (bot/loop): /afspraak, /agenda, /compliment, the Afspraak button under
an alert, the week buttons of an agreement, Besproken and Compliment, and the mentor's reply
to the loop's questions (a message starting with ✍️, answered by replying to it).

Every command and button works only for an active mentor of the cohort concerned (as in
handlers/mentor.py); anyone else gets the polite refusal and nothing changes."""

from __future__ import annotations

from typing import Any

from telegram import ForceReply, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.gaps.alerts import DEAL_PATTERN
from bot.loop import agenda, agreements, compliments, replies
from bot.loop.common import PROMPT_MARK, Reply
from bot.loop.compliments import BUTTON_PATTERN as COMPLIMENT_PATTERN
from bot.people.identity import Identity
from bot.runtime.context import MentorContext
from bot.texts import t
from handlers.base import answer, identify, now, unit_of_work
from handlers.mentor import _rest_of_message, _scope


class _ReplyToLoopQuestion(filters.MessageFilter):
    """A reply to one of the bot's ✍️ questions (the database decides whose it is)."""

    def filter(self, message: Message) -> bool:
        original = message.reply_to_message
        return bool(
            original is not None
            and original.from_user is not None
            and original.from_user.is_bot
            and (original.text or "").startswith(PROMPT_MARK)
        )


REPLY_TO_LOOP_QUESTION = _ReplyToLoopQuestion()


def _mentors(who: Identity) -> dict[int, Any]:
    return {m.cohort_id: m for m in who.active("mentor")}


async def _say(update: Update, lang: str, result: Reply) -> Message | None:
    """Send a loop reply: with its buttons, or as a question to answer by replying."""
    markup: InlineKeyboardMarkup | ForceReply | None = None
    if result.buttons:
        markup = InlineKeyboardMarkup(
            [[InlineKeyboardButton(label, callback_data=data) for label, data in row]
             for row in result.buttons]
        )  # fmt: skip
    elif result.prompt is not None:
        markup = ForceReply(input_field_placeholder=t("loop.placeholder", lang))
    chat = update.effective_chat
    if chat is None:
        return None
    return await chat.send_message(t(result.key, lang, **result.values), reply_markup=markup)


async def _say_and_remember(update: Update, context: MentorContext, lang: str,
                            result: Reply) -> None:  # fmt: skip
    sent = await _say(update, lang, result)
    if result.prompt is not None and sent is not None:
        async with unit_of_work(context) as session:
            await replies.remember_prompt(session, result.prompt, sent.chat_id, sent.message_id)


async def agreement_command(update: Update, context: MentorContext) -> None:
    """/afspraak <student> [tekst]: make a learning agreement with one student."""
    async with unit_of_work(context) as session:
        scope = await _scope(session, update, context)
        lang = scope.who.language
        if scope.cohort_id is None:
            await answer(update, lang, "input.mentor_only")
            return
        text = _rest_of_message(update, scope)
        result = await agreements.start_from_command(
            session, scope.cohort_id, text, scope.who.user_id, scope.mentors, now()
        )
    await _say_and_remember(update, context, lang, result)


async def compliment_command(update: Update, context: MentorContext) -> None:
    """/compliment <student> [tekst]: send one student a compliment."""
    async with unit_of_work(context) as session:
        scope = await _scope(session, update, context)
        lang = scope.who.language
        if scope.cohort_id is None:
            await answer(update, lang, "input.mentor_only")
            return
        text = _rest_of_message(update, scope)
        result = await compliments.from_command(
            session, scope.cohort_id, text, scope.who.user_id, scope.mentors, now()
        )
    await _say_and_remember(update, context, lang, result)


async def agenda_command(update: Update, context: MentorContext) -> None:
    """/agenda: the class meeting's items, each with a Besproken button."""
    async with unit_of_work(context) as session:
        scope = await _scope(session, update, context)
        lang = scope.who.language
        if scope.cohort_id is None:
            await answer(update, lang, "input.mentor_only")
            return
        result = await agenda.agenda(session, scope.cohort_id, now())
    await _say(update, lang, result)


async def deal_button(update: Update, context: MentorContext) -> None:
    """Afspraak under an alert: ask the mentor for the agreement's one line."""
    query = update.callback_query
    assert query is not None and query.data is not None
    alert_id = int(query.data.split(":")[1])
    async with unit_of_work(context) as session:
        who = await identify(session, update, context)
        result = await agreements.start_from_alert(
            session, alert_id, who.user_id, _mentors(who), now()
        )
    await _after_button(update, context, who.language, result)


async def week_button(update: Update, context: MentorContext) -> None:
    """A follow-up week (send the agreement) or Annuleren under a draft agreement."""
    query = update.callback_query
    assert query is not None and query.data is not None
    async with unit_of_work(context) as session:
        who = await identify(session, update, context)
        result = await agreements.press(session, query.data, who.user_id, _mentors(who), now())
    text = t(result.key, who.language, **result.values)
    await query.answer(text[:200])
    if result.key in ("loop.agreement.sent", "loop.agreement.unreachable",
                      "loop.agreement.cancelled"):  # fmt: skip
        try:  # the week buttons have done their work: show the result in their place
            await query.edit_message_text(text)
        except BadRequest as exc:
            if "not modified" not in str(exc).lower():
                raise


async def discussed_button(update: Update, context: MentorContext) -> None:
    """Besproken under an agenda item: ask for the one-line note."""
    query = update.callback_query
    assert query is not None and query.data is not None
    async with unit_of_work(context) as session:
        who = await identify(session, update, context)
        result = await agenda.start_note(session, query.data, who.user_id, _mentors(who), now())
    await _after_button(update, context, who.language, result)


async def compliment_button(update: Update, context: MentorContext) -> None:
    """Compliment under the digest: ask for the compliment's line."""
    query = update.callback_query
    assert query is not None and query.data is not None
    async with unit_of_work(context) as session:
        who = await identify(session, update, context)
        result = await compliments.start_from_button(
            session, query.data, who.user_id, _mentors(who), now()
        )
    await _after_button(update, context, who.language, result)


async def _after_button(update: Update, context: MentorContext, lang: str, result: Reply) -> None:
    """A refusal goes in the button's answer; a question as a message to reply to."""
    query = update.callback_query
    assert query is not None
    if result.prompt is None:
        await query.answer(t(result.key, lang, **result.values)[:200])
        return
    await query.answer()
    await _say_and_remember(update, context, lang, result)


async def reply_to_question(update: Update, context: MentorContext) -> None:
    """A reply to one of the loop's ✍️ questions: fill in the line it asked for."""
    message = update.effective_message
    assert message is not None and message.text is not None
    assert message.reply_to_message is not None
    async with unit_of_work(context) as session:
        who = await identify(session, update, context)
        asked = message.reply_to_message.message_id
        result = await replies.fill(
            session, who.user_id, message.chat_id, asked, message.text, now()
        )
    await _say_and_remember(update, context, who.language, result)


def loop_handlers() -> list[BaseHandler[Any, Any, Any]]:
    """Commands, then buttons (before the alert buttons' general `al:` handler), then the
    replies to the loop's questions (before the check-in's text answers and the fallbacks)."""
    return [
        CommandHandler("afspraak", agreement_command),
        CommandHandler("agenda", agenda_command),
        CommandHandler("compliment", compliment_command),
        CallbackQueryHandler(deal_button, pattern=DEAL_PATTERN),
        CallbackQueryHandler(week_button, pattern=f"^{agreements.PREFIX}"),
        CallbackQueryHandler(discussed_button, pattern=f"^{agenda.PREFIX}"),
        CallbackQueryHandler(compliment_button, pattern=COMPLIMENT_PATTERN),
        MessageHandler(filters.TEXT & ~filters.COMMAND & REPLY_TO_LOOP_QUESTION, reply_to_question),
    ]
