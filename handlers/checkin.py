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
from bot.checkin.typed import save_text
from bot.observe import links
from bot.outbox.queue import Outgoing
from bot.people.identity import Identity
from bot.runtime.context import MentorContext
from bot.runtime.inbox import handled_again, write_with_record
from bot.schedule.next_round import next_round_phrase
from bot.texts import t
from handlers import observe
from handlers.base import acknowledge, answer, answer_text, command_argument, identify, unit_of_work
from handlers.common import private_fallback
from handlers.roles import Reply, Scope, StudentScope, as_anyone, as_student
from storage.db import Session
from storage.records import MemberRecord
from storage.repos.rounds import PromptRepo

CHOSEN_MARK = "\n\n➡️ "
MAX_REPLY_WAIT = 10.0  # seconds: longer and the student had better use /verder


@as_anyone
async def answer_button(update: Update, context: MentorContext, scope: Scope) -> Reply:
    """A tapped rating, choice or skip: store it, confirm it, ask the next question."""
    query = update.callback_query
    assert query is not None and query.data is not None
    if query.data.startswith(SKIP):
        token, raw = query.data[len(SKIP) :], None
    else:
        token, _, raw = query.data[len(checkin.ANSWER) :].rpartition(":")
    who = scope.who
    outcome = await checkin.save_choice(
        scope.session, who.memberships, token, raw, who.language, scope.now, again=handled_again()
    )
    return lambda: _confirm_choice(update, context, query, outcome)


async def _confirm_choice(
    update: Update, context: MentorContext, query: CallbackQuery, outcome: Outcome
) -> None:
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


async def _send_follow_ups(
    update: Update,
    context: MentorContext,
    outcome: Outcome,
    messages: list[Ask | Outgoing] | None = None,
) -> None:
    """Send the next question (or the closing summary) at once; after a completed
    reflection, queue the check of the student's alerts (the reply does not wait for it)."""
    chat = update.effective_chat
    assert chat is not None
    if outcome.completed is not None and context.state.running is not None:
        # queued before the reply goes out (so whoever sees the reply can wait for it), run
        # beside it: the reply never waits for the check
        context.state.running.check_alerts_later(outcome.completed[0])
    for item in outcome.follow_ups if messages is None else messages:
        message = item.message if isinstance(item, Ask) else item
        sent = await _send_with_one_retry(chat, message)
        if isinstance(item, Ask) and item.remember_message:
            await _remember(context, item.token, sent.message_id)


async def _remember(context: MentorContext, token: str, message_id: int) -> None:
    """The sent question's message with its prompt, so that a reply to it answers it. Written
    with the inbox's record of the update (`write_with_record`): a transaction fewer per text
    question, and the user's next update, claimed only after that record, still finds it."""

    async def write(session: Session) -> None:
        await PromptRepo(session).set_message(token, message_id)

    if not write_with_record(write):  # not handled through the inbox
        async with unit_of_work(context) as session:
            await write(session)


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


@as_anyone
async def text_answer(update: Update, context: MentorContext, scope: Scope) -> Reply:
    """A typed message from a student: a question for the team, an answer, or neither."""
    message = update.effective_message
    assert message is not None and message.text is not None
    reply_to = message.reply_to_message.message_id if message.reply_to_message else None
    session, student, lang = scope.session, scope.who.student, scope.language
    outcome: Outcome | None = None
    to_team = False  # a question for the team was queued: the sender must wake for it
    if (
        student is not None
        and reply_to
        and await _is_question_prompt(session, student.id, reply_to)
    ):
        outcome, to_team = await _question(scope, student, message.text), True
    elif student is not None:
        outcome = await save_text(
            session, student, message.text, reply_to, lang, scope.now, again=handled_again()
        )
    if student is None and scope.who.active(links.ROLE):
        # a werkbegeleider's line after a student's skills (handlers/observe.py)
        who = scope.who
        return lambda: _werkbegeleider_text(update, context, who)
    if outcome is None:  # not a student, or nothing open to answer
        return lambda: private_fallback(update, context)
    return lambda: _acknowledge(update, context, outcome, to_team)


async def _werkbegeleider_text(update: Update, context: MentorContext, who: Identity) -> None:
    if not await observe.note_text(update, context, who):
        await private_fallback(update, context)


async def _acknowledge(
    update: Update, context: MentorContext, outcome: Outcome, to_team: bool = False
) -> None:
    """Confirm a typed answer and ask the next question in one message (one a second per chat)."""
    if to_team:  # only then: a woken sender runs a claim transaction for nothing otherwise
        context.state.wake_sender()
    await _send_follow_ups(update, context, outcome, checkin.ack_with_follow_ups(outcome))


async def _is_question_prompt(session: Session, member_id: int, message_id: int) -> bool:
    prompt = await PromptRepo(session).by_message(member_id, message_id)
    return prompt is not None and prompt.question_key == QUESTION_KEY


async def _question(scope: Scope, student: MemberRecord, text: str) -> Outcome:
    lang = scope.language
    if not has_visible_text(text):
        return Outcome(t("input.empty", lang))
    if len(text) > MAX_QUESTION:
        return Outcome(t("input.too_long", lang, length=len(text), limit=MAX_QUESTION))
    await ask_team(scope.session, student, text, scope.now)
    return Outcome(t("question.sent", lang))


@as_student()
async def ask_command(update: Update, context: MentorContext, scope: StudentScope) -> Reply:
    """/vraag <tekst>: send a question to the mentor team."""
    text = command_argument(context)
    if not text:
        return lambda: answer(update, scope.language, "question.usage")
    outcome = await _question(scope, scope.student, text)
    return lambda: _question_sent(update, context, outcome)


async def _question_sent(update: Update, context: MentorContext, outcome: Outcome) -> None:
    context.state.wake_sender()
    await answer_text(update, outcome.ack)


async def resume_command(update: Update, context: MentorContext) -> None:
    """/verder or the Verder button: ask the question where the student stopped."""
    if update.callback_query is not None:
        await acknowledge(update.callback_query)
    async with unit_of_work(context) as session:
        who = await identify(session, update, context)
    if who.student is None and who.active(links.ROLE):
        await observe.resume(update, context, who)  # the observation round's own /verder
        return
    await _resume(update, context)


@as_student()
async def _resume(update: Update, context: MentorContext, scope: StudentScope) -> Reply:
    """Ask again the first unanswered question of the open reflection, if there is one."""
    session, student, lang = scope.session, scope.student, scope.language
    round_ = await checkin.open_reflection(session, student)
    follow = (
        await checkin.ask_next(session, round_, student, lang, scope.now, again=True)
        if round_
        else None
    )
    if follow is None:
        cohort = await scope.cohort()
        phrase = next_round_phrase(cohort, lang, scope.now) if cohort else ""
        return lambda: answer(update, lang, "resume.nothing", next_round=phrase)
    return lambda: _send_follow_ups(update, context, Outcome("", follow_ups=[follow]))


@as_anyone
async def expectations_button(update: Update, context: MentorContext, scope: Scope) -> Reply:
    """Begrepen (noted) or Vraag hierover (ask the team about this week's expectations)."""
    query = update.callback_query
    assert query is not None and query.data is not None
    token, _, action = query.data[len(EXPECT) :].rpartition(":")
    result = await checkin.expectations_action(
        scope.session, scope.who.student, token, action, scope.now
    )
    return lambda: _expectations_reply(update, context, scope.who, action, result)


async def _expectations_reply(
    update: Update, context: MentorContext, who: Identity, action: str, result: str | None
) -> None:
    query = update.callback_query
    assert query is not None
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
    await _remember(context, result, sent.message_id)
