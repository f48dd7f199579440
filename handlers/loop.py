"""The loop in Telegram (bot/loop): /afspraak, /agenda, /compliment, the Afspraak button under
an alert, the week buttons of an agreement, Besproken and Compliment, and the mentor's reply
to the loop's questions (a message starting with ✍️, answered by replying to it).

Commands go through `as_mentor` (an active mentor of the cohort concerned, else the polite
`input.mentor_only`); buttons and replies through `as_anyone`, and the service refuses
whoever is not a mentor of the row's cohort. Nothing changes for a refused user."""

from __future__ import annotations

from typing import Any

from telegram import ForceReply, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.gaps.alerts import DEAL_PATTERN
from bot.loop import agenda, agreements, compliments, replies
from bot.loop.common import PROMPT_MARK
from bot.loop.common import Reply as LoopReply
from bot.loop.compliments import BUTTON_PATTERN as COMPLIMENT_PATTERN
from bot.runtime.context import MentorContext
from bot.texts import t
from handlers.base import unit_of_work
from handlers.mentor import _rest_of_message
from handlers.roles import MentorScope, Reply, Scope, as_anyone, as_mentor
from storage.records import MemberRecord

FINAL_KEYS = (
    "loop.agreement.sent",
    "loop.agreement.sent_shared",
    "loop.agreement.unreachable",
    "loop.agreement.cancelled",
)


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


def _mentors(scope: Scope) -> dict[int, MemberRecord]:
    return {m.cohort_id: m for m in scope.who.active("mentor")}


def _markup(result: LoopReply, lang: str) -> InlineKeyboardMarkup | ForceReply | None:
    if result.buttons:
        rows = [[InlineKeyboardButton(label, callback_data=data) for label, data in row]
                for row in result.buttons]  # fmt: skip
        return InlineKeyboardMarkup(rows)
    if result.prompt is not None:
        return ForceReply(input_field_placeholder=t("loop.placeholder", lang))
    return None


def _say(update: Update, context: MentorContext, lang: str, result: LoopReply) -> Reply:
    """After the commit: send the loop's reply; a question's message id is remembered so that
    the mentor's reply to it finds its row (in a transaction of its own)."""

    async def send() -> None:
        chat = update.effective_chat
        if chat is None:
            return
        text = t(result.key, lang, **result.values)
        sent = await chat.send_message(text, reply_markup=_markup(result, lang))
        if result.prompt is not None:
            async with unit_of_work(context) as session:
                await replies.remember_prompt(session, result.prompt, sent.chat_id, sent.message_id)

    return send


@as_mentor
async def agreement_command(update: Update, context: MentorContext, scope: MentorScope) -> Reply:
    """/afspraak <student> [tekst]: make a learning agreement with one student."""
    result = await agreements.start_from_command(
        scope.session, scope.cohort_id, _rest_of_message(update, scope), scope.who.user_id,
        scope.mentors, scope.now,
    )  # fmt: skip
    return _say(update, context, scope.language, result)


@as_mentor
async def compliment_command(update: Update, context: MentorContext, scope: MentorScope) -> Reply:
    """/compliment <student> [tekst]: send one student a compliment."""
    result = await compliments.from_command(
        scope.session, scope.cohort_id, _rest_of_message(update, scope), scope.who.user_id,
        scope.mentors, scope.now,
    )  # fmt: skip
    return _say(update, context, scope.language, result)


@as_mentor
async def agenda_command(update: Update, context: MentorContext, scope: MentorScope) -> Reply:
    """/agenda: the class meeting's items, each with a Besproken button."""
    result = await agenda.agenda(scope.session, scope.cohort_id, scope.now, scope.language)
    return _say(update, context, scope.language, result)


@as_anyone
async def deal_button(update: Update, context: MentorContext, scope: Scope) -> Reply:
    """Afspraak under an alert: ask the mentor for the agreement's one line."""
    query = update.callback_query
    assert query is not None and query.data is not None
    alert_id = int(query.data.split(":")[1])
    result = await agreements.start_from_alert(
        scope.session, alert_id, scope.who.user_id, _mentors(scope), scope.now
    )
    return _after_button(update, context, scope.language, result)


@as_anyone
async def week_button(update: Update, context: MentorContext, scope: Scope) -> Reply:
    """A follow-up week (send it), the werkbegeleider's copy on/off, or Annuleren."""
    query = update.callback_query
    assert query is not None and query.data is not None
    result = await agreements.press(
        scope.session, query.data, scope.who.user_id, _mentors(scope), scope.now
    )
    text = t(result.key, scope.language, **result.values)

    async def show() -> None:
        if result.buttons:  # the copy switched on or off: the same question, new buttons
            await query.answer()
            markup = _markup(result, scope.language)
            assert isinstance(markup, InlineKeyboardMarkup)
            await query.edit_message_text(text, reply_markup=markup)
            return
        await query.answer(text[:200])
        if result.key not in FINAL_KEYS:
            return
        try:  # the week buttons have done their work: the result takes their place
            await query.edit_message_text(text)
        except BadRequest as exc:
            if "not modified" not in str(exc).lower():
                raise

    return show


@as_anyone
async def discussed_button(update: Update, context: MentorContext, scope: Scope) -> Reply:
    """Besproken under an agenda item: ask for the one-line note."""
    query = update.callback_query
    assert query is not None and query.data is not None
    result = await agenda.start_note(
        scope.session, query.data, scope.who.user_id, _mentors(scope), scope.now, scope.language
    )
    return _after_button(update, context, scope.language, result)


@as_anyone
async def compliment_button(update: Update, context: MentorContext, scope: Scope) -> Reply:
    """Compliment under the digest or a resolved alert: ask for the compliment's line."""
    query = update.callback_query
    assert query is not None and query.data is not None
    result = await compliments.start_from_button(
        scope.session, query.data, scope.who.user_id, _mentors(scope), scope.now
    )
    return _after_button(update, context, scope.language, result)


def _after_button(update: Update, context: MentorContext, lang: str, result: LoopReply) -> Reply:
    """A refusal goes in the button's answer; a question as a message to reply to."""
    query = update.callback_query
    assert query is not None
    ask = _say(update, context, lang, result)

    async def send() -> None:
        if result.prompt is None:
            await query.answer(t(result.key, lang, **result.values)[:200])
            return
        await query.answer()
        if ask is not None:
            await ask()

    return send


@as_anyone
async def reply_to_question(update: Update, context: MentorContext, scope: Scope) -> Reply:
    """A reply to one of the loop's ✍️ questions: fill in the line it asked for."""
    message = update.effective_message
    assert message is not None and message.text is not None
    assert message.reply_to_message is not None
    asked = message.reply_to_message.message_id
    result = await replies.fill(
        scope.session, scope.who.user_id, message.chat_id, asked, message.text, scope.now
    )
    return _say(update, context, scope.language, result)


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
