"""The student's check-in: answer buttons, typed answers, /verder, /vraag and the
expectations buttons. Every answer is stored in the update's transaction before replying."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from telegram import (
    CallbackQuery,
    Chat,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.error import BadRequest, RetryAfter

from bot.checkin import flow as checkin
from bot.checkin.flow import EXPECT, QUESTION_KEY, SKIP, Ask, Outcome, has_visible_text
from bot.checkin.student_questions import MAX_QUESTION, ask_team
from bot.outbox.queue import Outgoing
from bot.runtime.context import MentorContext
from bot.schedule.next_round import next_round_phrase
from bot.texts import t
from handlers.base import acknowledge, answer, command_argument, identify, now, unit_of_work
from handlers.common import private_fallback
from storage.repos import CohortRepo
from storage.repos.rounds import PromptRepo

CHOSEN_MARK = "\n\n➡️ "
MAX_REPLY_WAIT = 10.0  # seconds: longer and the student had better use /verder


async def answer_button(update: Update, context: MentorContext) -> None:
    """A tapped rating, choice or skip: store it, confirm it, ask the next question."""
    query = update.callback_query
    assert query is not None and query.data is not None
    if query.data.startswith(SKIP):
        token, raw = query.data[len(SKIP) :], None
    else:
        token, _, raw = query.data[len(checkin.ANSWER) :].rpartition(":")
    async with unit_of_work(context) as session:
        who = await identify(session, update, context)
        outcome = await checkin.save_choice(session, who.user_id, token, raw, who.language, now())
    await acknowledge(query, outcome.ack)
    await _send_follow_ups(update, context, outcome)  # the next question first: it is awaited
    if outcome.edit is not None:
        await _show_choice(query, outcome.edit)


async def _show_choice(query: CallbackQuery, chosen: str) -> None:
    """Edit the question to show the answer; the buttons stay, so it can still change."""
    message = query.message
    text = getattr(message, "text", None)
    if text is None:
        return
    base = text.split(CHOSEN_MARK.strip("\n"))[0].rstrip()
    markup = getattr(message, "reply_markup", None)
    try:
        await query.edit_message_text(f"{base}\n\n{chosen}", reply_markup=markup)
    except BadRequest as exc:  # "message is not modified" after a double tap
        if "not modified" not in str(exc).lower():
            raise


async def _send_follow_ups(update: Update, context: MentorContext, outcome: Outcome) -> None:
    """Send the next question (or the closing summary) at once; after a completed
    reflection, decide the student's alerts from the answers just committed."""
    chat = update.effective_chat
    assert chat is not None
    if outcome.completed is not None and context.state.running is not None:
        await context.state.running.evaluate_alerts(outcome.completed[0])
    for item in outcome.follow_ups:
        message = item.message if isinstance(item, Ask) else item
        sent = await _send_with_one_retry(chat, message)
        if isinstance(item, Ask) and item.remember_message:
            async with unit_of_work(context) as session:
                await PromptRepo(session).set_message(item.token, sent.message_id)


async def _send_with_one_retry(chat: Chat, message: Outgoing) -> Message:
    """The next question must reach the student: on a 429 wait what Telegram asks (a few
    seconds at most) and try once more; the answer itself is stored already."""
    try:
        return await chat.send_message(message.text, reply_markup=_markup(message))
    except RetryAfter as exc:
        wait = exc.retry_after
        seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
        await asyncio.sleep(min(seconds, MAX_REPLY_WAIT))
        return await chat.send_message(message.text, reply_markup=_markup(message))


def _markup(message: Outgoing) -> InlineKeyboardMarkup | None:
    if not message.buttons:
        return None
    rows = [
        [InlineKeyboardButton(label, callback_data=data) for label, data in row]
        for row in message.buttons
    ]
    return InlineKeyboardMarkup(rows)


async def text_answer(update: Update, context: MentorContext) -> None:
    """A typed message from a student: a question for the team, an answer, or neither."""
    message = update.effective_message
    assert message is not None and message.text is not None
    reply_to = message.reply_to_message.message_id if message.reply_to_message else None
    async with unit_of_work(context) as session:
        who = await identify(session, update, context)
        student = who.student
        if student is None:
            outcome = None
        elif reply_to and await _is_question_prompt(session, student.id, reply_to):
            outcome = await _question(session, student, message.text, who.language)
        else:
            outcome = await checkin.save_text(
                session, student, message.text, reply_to, who.language, now()
            )
    if outcome is None:
        await private_fallback(update, context)
        return
    context.state.wake_sender()  # a question for the team may have been queued
    await answer_text(update, outcome.ack)
    await _send_follow_ups(update, context, outcome)


async def answer_text(update: Update, text: str) -> None:
    if update.effective_chat is not None:
        await update.effective_chat.send_message(text)


async def _is_question_prompt(session: object, member_id: int, message_id: int) -> bool:
    prompt = await PromptRepo(session).by_message(member_id, message_id)  # type: ignore[arg-type]
    return prompt is not None and prompt.question_key == QUESTION_KEY


async def _question(session: object, student: object, text: str, lang: str) -> Outcome:
    if not has_visible_text(text):
        return Outcome(t("input.empty", lang))
    if len(text) > MAX_QUESTION:
        return Outcome(t("input.too_long", lang, length=len(text), limit=MAX_QUESTION))
    await ask_team(session, student, text, now())  # type: ignore[arg-type]
    return Outcome(t("question.sent", lang))


async def ask_command(update: Update, context: MentorContext) -> None:
    """/vraag <tekst>: send a question to the mentor team."""
    text = command_argument(context)
    async with unit_of_work(context) as session:
        who = await identify(session, update, context)
        student = who.student
        if student is None:
            key = "input.not_enrolled" if not who.is_enrolled else "input.students_only"
            await answer(update, who.language, key)
            return
        if not text:
            await answer(update, who.language, "question.usage")
            return
        outcome = await _question(session, student, text, who.language)
    context.state.wake_sender()
    await answer_text(update, outcome.ack)


async def resume_command(update: Update, context: MentorContext) -> None:
    """/verder or the Verder button: ask the question where the student stopped."""
    if update.callback_query is not None:
        await acknowledge(update.callback_query)
    async with unit_of_work(context) as session:
        who = await identify(session, update, context)
        student = who.student
        if student is None:
            key = "input.not_enrolled" if not who.is_enrolled else "input.students_only"
            await answer(update, who.language, key)
            return
        round_ = await checkin.open_reflection(session, student)
        follow = (
            await checkin.ask_next(session, round_, student, who.language, now(), again=True)
            if round_
            else None
        )
        cohort = await CohortRepo(session).get(student.cohort_id)
    if follow is None:
        phrase = next_round_phrase(cohort, who.language) if cohort else ""
        await answer(update, who.language, "resume.nothing", next_round=phrase)
        return
    await _send_follow_ups(update, context, Outcome("", follow_ups=[follow]))


async def expectations_button(update: Update, context: MentorContext) -> None:
    """Begrepen (noted) or Vraag hierover (ask the team about this week's expectations)."""
    query = update.callback_query
    assert query is not None and query.data is not None
    token, _, action = query.data[len(EXPECT) :].rpartition(":")
    async with unit_of_work(context) as session:
        who = await identify(session, update, context)
        result = await checkin.expectations_action(session, who.student, token, action, now())
    if result is None:
        await acknowledge(query, t("input.stale_button", who.language))
        return
    if action == "ok":
        await acknowledge(query, t("expectations.noted", who.language))
        return
    await acknowledge(query)
    chat = update.effective_chat
    assert chat is not None
    prompt = t("expectations.type_question", who.language)
    sent = await chat.send_message(prompt, reply_markup=ForceReply())
    async with unit_of_work(context) as session:
        await PromptRepo(session).set_message(result, sent.message_id)
